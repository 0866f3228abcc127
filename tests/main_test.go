// Package tests holds black-box tests that cross packages: the demo's
// servers driven over real loopback sockets, fault and soak tests.
package tests

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(removeBuilds{m}))
}

// removeBuilds deletes the demo binary built by the tests once they end.
type removeBuilds struct{ m testutil.M }

func (r removeBuilds) Run() int {
	code := r.m.Run()
	if demoBin != "" {
		os.RemoveAll(filepath.Dir(demoBin))
	}
	return code
}
