package session_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

// rfcMessage is message 12 of RFC 3501 section 8's sample session.
var rfcMessage = crlf(`Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)
From: Terry Gray <gray@cac.washington.edu>
Subject: IMAP4rev1 WG mtg summary and minutes
To: imap@cac.washington.edu
cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>
Message-Id: <B27397-0100000@cac.washington.edu>
MIME-Version: 1.0
Content-Type: TEXT/PLAIN; CHARSET=US-ASCII

Minutes of the meeting.
Two lines.
`)

// TestSampleSession replays RFC 3501 section 8 against a mailbox built to
// match it: 18 messages, 17 the first unseen, 12 the one fetched. Sizes
// are this message's; the wording is this server's; and two addresses
// follow each other without a space, as the formal syntax (env-cc = "("
// 1*address ")") has it, where the example shows one.
func TestSampleSession(t *testing.T) {
	srv := newServer(t)
	mb := srv.inbox(t, "mrc")
	for i := 1; i <= 18; i++ {
		body := crlf(fmt.Sprintf("Subject: message %d\n\nbody\n", i))
		if i == 12 {
			body = rfcMessage
		}
		var f mail.Flags
		if i < 17 {
			f = mail.Flags{mail.Seen}
		}
		if i == 17 {
			mb.ClaimRecent() // an earlier session saw 1-16: 17 and 18 are recent
		}
		if _, err := mb.Append([]byte(body), f, t0); err != nil {
			t.Fatal(err)
		}
	}
	c := srv.connect(t)
	c.expect("a001 login mrc secret",
		"a001 OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS] Logged in")
	size := len(rfcMessage)
	header := rfcMessage[:strings.Index(rfcMessage, "\r\n\r\n")+4]
	c.expect("a002 select inbox",
		`* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
		`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted`,
		"* 18 EXISTS",
		"* 2 RECENT",
		"* OK [UNSEEN 17] First unseen",
		fmt.Sprintf("* OK [UIDVALIDITY %d] UIDs valid", t0.Unix()),
		"* OK [UIDNEXT 19] Predicted next UID",
		"a002 OK [READ-WRITE] SELECT completed")
	c.expect("a003 fetch 12 full",
		`* 12 FETCH (FLAGS (\Seen) INTERNALDATE "17-Jul-1996 02:44:25 -0700" `+
			fmt.Sprintf("RFC822.SIZE %d ", size)+
			`ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" `+
			`(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) `+
			`(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) `+
			`((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL `+
			`"<B27397-0100000@cac.washington.edu>") BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 37 2))`,
		"a003 OK FETCH completed")
	c.expect("a004 fetch 12 body[header]",
		fmt.Sprintf("* 12 FETCH (BODY[HEADER] {%d}\r\n%s)", len(header), header),
		"a004 OK FETCH completed")
	c.expect(`a005 store 12 +flags \deleted`,
		`* 12 FETCH (FLAGS (\Deleted \Seen))`,
		"a005 OK STORE completed")
	c.expect("a006 logout",
		"* BYE gotevent IMAP4rev1 server logging out",
		"a006 OK LOGOUT completed")
	if c.next.Op != session.Close {
		t.Errorf("after LOGOUT: %+v, want Close", c.next)
	}
}
