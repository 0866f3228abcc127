package session_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

const mimeMessage = `From: "Ann" <ann@x.test>
To: Bob <bob@y.test>, undisclosed:;
Subject: =?utf-8?q?caf=C3=A9?=
Content-Type: multipart/mixed; boundary=B

--B
Content-Type: text/plain; charset=utf-8

hello
--B
Content-Type: application/pdf; name=a.pdf
Content-Disposition: attachment; filename=a.pdf
Content-Transfer-Encoding: base64

JVBERi0=
--B--
`

func TestFetchSections(t *testing.T) {
	srv := newServer(t)
	add(t, srv.inbox(t, "demo"), mimeMessage)
	c := srv.connect(t).login("INBOX")
	m := crlf(mimeMessage)
	hdr := m[:strings.Index(m, "\r\n\r\n")+4]
	lit := func(s string) string { return fmt.Sprintf("{%d}\r\n%s", len(s), s) }

	c.expect("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject From)] FLAGS)",
		"* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] "+lit("From: \"Ann\" <ann@x.test>\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n\r\n")+
			` FLAGS (\Recent))`, "a OK FETCH completed")
	c.expect("b FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (FROM SUBJECT CONTENT-TYPE)]",
		"* 1 FETCH (BODY[HEADER.FIELDS.NOT (FROM SUBJECT CONTENT-TYPE)] "+lit("To: Bob <bob@y.test>, undisclosed:;\r\n\r\n")+")",
		"b OK FETCH completed")
	c.expect("c FETCH 1 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3] BODY.PEEK[1.TEXT])",
		"* 1 FETCH (BODY[1] {5}\r\nhello BODY[2.MIME] "+
			lit("Content-Type: application/pdf; name=a.pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n")+
			" BODY[3] NIL BODY[1.TEXT] NIL)", "c OK FETCH completed")
	c.expect("d FETCH 1 (BODY.PEEK[]<0.4> BODY.PEEK[HEADER]<6.5> BODY.PEEK[TEXT]<100000.5>)",
		`* 1 FETCH (BODY[]<0> {4}`+"\r\nFrom BODY[HEADER]<6> {5}\r\n\"Ann\" BODY[TEXT]<100000> {0}\r\n)",
		"d OK FETCH completed")
	c.expect("e FETCH 1 ENVELOPE",
		`* 1 FETCH (ENVELOPE (NIL "=?utf-8?q?caf=C3=A9?=" (("Ann" NIL "ann" "x.test")) (("Ann" NIL "ann" "x.test")) `+
			`(("Ann" NIL "ann" "x.test")) (("Bob" NIL "bob" "y.test")(NIL NIL "undisclosed" NIL)(NIL NIL NIL NIL)) NIL NIL NIL NIL))`,
		"e OK FETCH completed")
	c.expect("f FETCH 1 BODYSTRUCTURE",
		`* 1 FETCH (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 5 1 NIL NIL NIL)`+
			`("APPLICATION" "PDF" ("NAME" "a.pdf") NIL NIL "BASE64" 8 NIL ("ATTACHMENT" ("FILENAME" "a.pdf")) NIL)`+
			` "MIXED" ("BOUNDARY" "B") NIL NIL))`,
		"f OK FETCH completed")
	c.expect("g FETCH 1 (RFC822.SIZE RFC822.HEADER)",
		fmt.Sprintf("* 1 FETCH (RFC822.SIZE %d RFC822.HEADER %s)", len(m), lit(hdr)), "g OK FETCH completed")
	// Reading without PEEK sets \Seen, and the client is told.
	c.expect("h FETCH 1 BODY[1]", `* 1 FETCH (BODY[1] {5}`+"\r\n"+`hello FLAGS (\Seen \Recent))`, "h OK FETCH completed")
	c.expect("i UID FETCH 1 (FLAGS)", `* 1 FETCH (UID 1 FLAGS (\Seen \Recent))`, "i OK FETCH completed")
	c.expect("j UID FETCH 2:* FLAGS", `* 1 FETCH (UID 1 FLAGS (\Seen \Recent))`, "j OK FETCH completed")
	c.expect("k UID FETCH 5:7 FLAGS", "k OK FETCH completed")
	c.expect("l FETCH 1 (BOGUS)", "l BAD Unknown fetch attribute BOGUS")
}

// TestFetchChunks: a FETCH of many bodies stops after each OutputChunk
// and waits for the connection to drain, and passes the stored bytes
// through without copying them.
func TestFetchChunks(t *testing.T) {
	srv := newServer(t, func(c *session.Config) { c.OutputChunk = 4096 })
	mb := srv.inbox(t, "demo")
	body := "Subject: big\n\n" + strings.Repeat("x", 3000) + "\n"
	for range 10 {
		add(t, mb, body)
	}
	c := srv.connect(t).login("INBOX")
	next := c.s.Line([]byte("a FETCH 1:* BODY.PEEK[]\r\n"))
	drains := 0
	for next.Op == session.WaitDrain {
		next = c.s.Drained()
		drains++
	}
	got := c.out.take()
	if n := strings.Count(got, "FETCH (BODY[] {3018}"); n != 10 || !strings.HasSuffix(got, "a OK FETCH completed\r\n") {
		t.Errorf("%d bodies, end %q", n, got[len(got)-30:])
	}
	if drains < 4 {
		t.Errorf("%d drains for 30 KB in 4 KB chunks", drains)
	}
	stored, _ := mb.Read(mb.Messages()[0])
	shared := false
	for _, w := range c.out.writes {
		if len(w) == len(stored) && &w[0] == &stored[0] {
			shared = true
		}
	}
	if !shared || !bytes.Equal(stored, []byte(crlf(body))) {
		t.Error("the stored message was not passed to Out as it is")
	}
}
