package imap_test

import (
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
)

// The hibernation process keeps a connection only for "<tag> IDLE" with
// a tag the session would take too; anything else goes back.
func TestIdleCommand(t *testing.T) {
	for line, want := range map[string]string{
		"a1 IDLE\r\n":    "a1",
		"x.2 idle\r\n":   "x.2",
		"a1 IDLE\n":      "a1",
		"a1 IDLE x\r\n":  "",
		"a+ IDLE\r\n":    "",
		"a* IDLE\r\n":    "",
		" IDLE\r\n":      "",
		"IDLE\r\n":       "",
		"a1 NOOP\r\n":    "",
		"a\x01 IDLE\r\n": "",
	} {
		if got := imap.IdleCommand([]byte(line)); got != want {
			t.Errorf("idleCommand(%q) = %q, want %q", line, got, want)
		}
	}
}
