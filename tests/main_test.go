// Package tests holds black-box tests that cross packages: the demo's
// servers driven over real loopback sockets, fault and soak tests.
package tests

import (
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(m))
}
