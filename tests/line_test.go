package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/tevent"
)

func startLine(t *testing.T, cfg imap.Config) string {
	t.Helper()
	var addr string
	runLoop(t, func(ev *tevent.Context) func() {
		l := listen(t, ev)
		addr = tcpAddr(l.Addr())
		srv := imap.NewServer(ev, l, cfg)
		return srv.Close
	})
	return addr
}

// A whole IMAP-style session: tagged commands, IDLE with pushed updates
// and keep-alives, input while IDLE runs, DONE, LOGOUT.
func TestLineServerIdleSession(t *testing.T) {
	addr := startLine(t, imap.Config{
		Update:      5 * time.Millisecond,
		KeepAlive:   3 * time.Millisecond,
		IdleTimeout: time.Hour,
	})
	c := dial(t, addr)
	c.expect("* OK gotevent demo ready")
	c.send("a1 CAPABILITY\r\n")
	c.expect("* CAPABILITY IMAP4rev1 IDLE")
	c.expect("a1 OK CAPABILITY completed")
	c.send("a2 noop\r\n")
	c.expect("a2 OK NOOP completed")
	c.send("a3 IDLE\r\n")
	c.expect("+ idling")
	// Wait for at least one update and one keep-alive, in whatever order.
	sawExists, sawKeep := false, false
	for !sawExists || !sawKeep {
		switch l := c.line(); {
		case strings.HasSuffix(l, " EXISTS") && strings.HasPrefix(l, "* "):
			sawExists = true
		case l == "* OK still here":
			sawKeep = true
		default:
			t.Fatalf("unexpected line during IDLE: %q", l)
		}
	}
	// Input while the command runs: not DONE gets a BAD, DONE ends it.
	c.send("a4 NOOP\r\nDONE\r\n")
	gotBad := false
	for {
		l := c.line()
		if l == "* BAD expected DONE" {
			gotBad = true
			continue
		}
		if l == "a3 OK IDLE terminated" {
			break
		}
		if !strings.HasPrefix(l, "* ") {
			t.Fatalf("unexpected line ending IDLE: %q", l)
		}
	}
	if !gotBad {
		t.Fatal("input other than DONE during IDLE got no BAD")
	}
	c.send("a5 FROB\r\n")
	c.expect("a5 BAD unknown command FROB")
	c.send("garbage\r\n")
	c.expect("* BAD missing tag or command")
	c.send("a6 LOGOUT\r\n")
	c.expect("* BYE logging out")
	c.expect("a6 OK LOGOUT completed")
	c.eof()
}

func TestLineServerIdleTimeout(t *testing.T) {
	addr := startLine(t, imap.Config{IdleTimeout: 20 * time.Millisecond})
	c := dial(t, addr)
	c.expect("* OK gotevent demo ready")
	c.expect("* BYE autologout; idle for too long")
	c.eof()
}

func TestLineServerLineTooLong(t *testing.T) {
	addr := startLine(t, imap.Config{IdleTimeout: time.Hour})
	c := dial(t, addr)
	c.expect("* OK gotevent demo ready")
	c.send(strings.Repeat("x", imap.MaxLine+10))
	c.expect("* BYE line too long")
	c.eof()
}

// A client that vanishes mid-line leaves nothing behind (the loop's
// cleanup and goleak check that).
func TestLineServerPeerClosesMidLine(t *testing.T) {
	addr := startLine(t, imap.Config{IdleTimeout: time.Hour})
	c := dial(t, addr)
	c.expect("* OK gotevent demo ready")
	c.send("a1 NOO")
	c.conn.Close()
	c2 := dial(t, addr)
	c2.expect("* OK gotevent demo ready")
	c2.send("b1 NOOP\r\n")
	c2.expect("b1 OK NOOP completed")
}
