package errno_test

import (
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(m))
}
