package tqueue_test

import (
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testutil.CheckFDs(m)) }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// backends runs every test that uses a context on each backend.
var backends = testutil.Backends
