package session_test

import (
	"fmt"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

// TestIdlePush: RFC 2177. A session in IDLE hears of another session's
// APPEND, STORE and EXPUNGE as they happen, without a command of its own.
func TestIdlePush(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend func(*session.Config)) {
		srv := newServer(t, backend)
		add(t, srv.inbox(t, "demo"), "Subject: 1\n\n")
		idler := srv.connect(t).login("INBOX")
		other := srv.connect(t).login("INBOX")

		idler.expect("i1 IDLE", "+ idling")
		if !idler.next.Idle || !idler.s.Idling() {
			t.Fatalf("next %+v: want Idle", idler.next)
		}
		msg := crlf("Subject: 2\n\n")
		other.do(fmt.Sprintf("o1 APPEND INBOX {%d+}\r\n%s", len(msg), msg))
		if got, want := idler.out.take(), "* 2 EXISTS\r\n* 2 RECENT\r\n"; got != want {
			t.Errorf("pushed %q, want %q", got, want)
		}
		other.do(`o2 STORE 1 +FLAGS (\Deleted)`)
		if got, want := idler.out.take(), "* 1 FETCH (FLAGS (\\Deleted \\Recent) UID 1)\r\n"; got != want {
			t.Errorf("pushed %q, want %q", got, want)
		}
		other.do("o3 EXPUNGE")
		if got, want := idler.out.take(), "* 1 EXPUNGE\r\n"; got != want {
			t.Errorf("pushed %q, want %q", got, want)
		}
		idler.s.KeepAlive()
		if got, want := idler.out.take(), "* OK Still here\r\n"; got != want {
			t.Errorf("keep-alive %q, want %q", got, want)
		}
		idler.expect("done", "i1 OK IDLE terminated")
		if idler.next.Idle {
			t.Error("still Idle after DONE")
		}
		idler.s.KeepAlive()
		other.do(fmt.Sprintf("o4 APPEND INBOX {%d+}\r\n%s", len(msg), msg))
		if got := idler.out.take(); got != "" {
			t.Errorf("outside IDLE the session wrote %q", got)
		}
		// The appending session heard of message 3 first and took its \Recent.
		idler.expect("i2 NOOP", "* 2 EXISTS", "* 1 RECENT", "i2 OK NOOP completed")

		idler.expect("i3 IDLE", "+ idling")
		idler.expect("i4 NOOP", "i3 BAD Expected DONE")
		idler.expect("i5 NOOP", "i5 OK NOOP completed")

		// IDLE without a mailbox (authenticated state) is allowed too.
		c := srv.connect(t).login("")
		c.expect("a IDLE", "+ idling")
		c.expect("DONE", "a OK IDLE terminated")
	})
}
