package tqueue_test

import (
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent/teventtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testutil.CheckFDs(m)) }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// backends runs fn once per backend (package teventtest).
var backends = teventtest.Backends
