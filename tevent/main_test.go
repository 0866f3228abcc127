package tevent_test

import (
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(m))
}

// backends runs every test that uses a context on each backend.
var backends = testutil.Backends
