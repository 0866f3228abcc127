package session_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

func TestAppend(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend func(*session.Config)) {
		srv := newServer(t, backend, func(c *session.Config) { c.Limits.MaxLiteral = 100 })
		c := srv.connect(t).login("")
		msg := crlf("Subject: hi\n\nhello\n")
		validity := t0.Unix()

		// A synchronizing literal: "+ Ready" before the client sends it.
		c.feed(fmt.Sprintf("a APPEND INBOX (\\Seen $Work) \"01-Feb-2024 10:00:00 +0100\" {%d}\r\n", len(msg)))
		if got := c.out.take(); got != "+ Ready for literal data\r\n" {
			t.Fatalf("continuation: %q", got)
		}
		if c.next.Op != session.ReadLiteral || c.next.Size != int64(len(msg)) {
			t.Fatalf("next %+v, want a literal of %d", c.next, len(msg))
		}
		c.expect(msg, fmt.Sprintf("a OK [APPENDUID %d 1] APPEND completed", validity))

		// LITERAL+: no continuation, the bytes follow at once.
		c.expect(fmt.Sprintf("b APPEND inbox {%d+}\r\n%s", len(msg), msg),
			fmt.Sprintf("b OK [APPENDUID %d 2] APPEND completed", validity))

		c.expect("c SELECT INBOX", `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)`,
			`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted`,
			"* 2 EXISTS", "* 2 RECENT", "* OK [UNSEEN 2] First unseen",
			fmt.Sprintf("* OK [UIDVALIDITY %d] UIDs valid", validity), "* OK [UIDNEXT 3] Predicted next UID",
			"c OK [READ-WRITE] SELECT completed")
		c.expect("d FETCH 1:* (FLAGS INTERNALDATE)",
			`* 1 FETCH (FLAGS ($Work \Seen \Recent) INTERNALDATE "01-Feb-2024 10:00:00 +0100")`,
			`* 2 FETCH (FLAGS (\Recent) INTERNALDATE "17-Jul-1996 02:44:25 -0700")`,
			"d OK FETCH completed")

		// Appending to the selected mailbox: EXISTS before the tagged OK.
		c.expect(fmt.Sprintf("e APPEND INBOX {%d+}\r\n%s", len(msg), msg),
			"* 3 EXISTS", "* 3 RECENT",
			fmt.Sprintf("e OK [APPENDUID %d 3] APPEND completed", validity))

		c.expect("f APPEND Nope {1+}\r\nx", "f NO [TRYCREATE] Mailbox does not exist")
		c.expect("g CREATE Nope", "g OK CREATE completed")
		c.expect("h APPEND Nope {1+}\r\nx", "h OK [APPENDUID 837596665 1] APPEND completed")
		c.expect(`i APPEND INBOX (\Recent) {1+}`+"\r\nx", "i BAD Invalid flag in APPEND")
		c.expect(`j APPEND INBOX "x"`, "j BAD Invalid date-time")
		c.expect(`j2 APPEND INBOX`, "j2 BAD APPEND needs the message as a literal")
		c.expect(`k APPEND INBOX "31-Foo-2024 00:00:00 +0000" {1+}`+"\r\nx", "k BAD Invalid date-time")
		c.expect("l APPEND INBOX {0+}\r\n", "l NO Cannot save an empty message")
	})
}

func TestLiteralLimits(t *testing.T) {
	srv := newServer(t, func(c *session.Config) { c.Limits.MaxLiteral = 10 })
	c := srv.connect(t).login("")
	// Too large and synchronizing: refused before the client sends it.
	c.expect("a APPEND INBOX {11}", "a NO [TOOBIG] Literal too large")
	c.expect("b NOOP", "b OK NOOP completed")
	// A failed command's LITERAL+ is read and dropped, and the rest of
	// the command skipped.
	c.expect("c APPEND INBOX ) {3+}\r\nabc {2+}\r\nde", "c BAD Unexpected ')'")
	c.expect("d NOOP", "d OK NOOP completed")
	// Too large and already on its way: the input cannot be resynchronized.
	got := c.do("e APPEND INBOX {11+}")
	if want := "e BAD [TOOBIG] Literal too large\r\n* BYE Cannot resynchronize with the client's input\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if c.next.Op != session.Close {
		t.Errorf("next %+v, want Close", c.next)
	}
}

func TestLiteralAsString(t *testing.T) {
	srv := newServer(t)
	c := srv.connect(t).login("")
	if got := c.do("a CREATE {5}\r\nWork."); !strings.HasSuffix(got, "a OK CREATE completed\r\n") {
		t.Errorf("CREATE with a literal: %q", got)
	}
	c.expect(`b LIST "" *`, `* LIST () "." INBOX`, `* LIST () "." Work`, "b OK LIST completed")
}
