// Package docs_test holds the code of the user guide, docs/guide.md: every
// Go block in the guide is a piece of an Example or a test here, and
// TestGuideBlocks checks that the guide and this code agree.
package docs_test

import (
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(m))
}
