package tevent_test

import (
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent/teventtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(m))
}

// backends runs fn once per backend (package teventtest).
var backends = teventtest.Backends
