package session_test

import (
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

func TestStoreCopyExpunge(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend func(*session.Config)) {
		srv := newServer(t, backend)
		add(t, srv.inbox(t, "demo"), "a\n\n", "b\n\n", "c\n\n")
		c := srv.connect(t).login("INBOX")
		c.expect(`a STORE 1 FLAGS (\Seen $A)`, `* 1 FETCH (FLAGS ($A \Seen \Recent))`, "a OK STORE completed")
		c.expect(`b STORE 1:2 +FLAGS \Flagged \Seen`,
			`* 1 FETCH (FLAGS ($A \Flagged \Seen \Recent))`, `* 2 FETCH (FLAGS (\Flagged \Seen \Recent))`,
			"b OK STORE completed")
		c.expect(`c UID STORE 1 -FLAGS.SILENT ($a \Seen)`, "c OK STORE completed")
		c.expect(`d UID STORE 2:* -FLAGS (\Flagged)`,
			`* 2 FETCH (FLAGS (\Seen \Recent) UID 2)`, `* 3 FETCH (FLAGS (\Recent) UID 3)`, "d OK STORE completed")
		c.expect(`e STORE 1 FLAGS (\Recent)`, "e BAD Invalid flag in STORE")
		c.expect(`e STORE 1 XFLAGS (\Seen)`, "e BAD Invalid STORE item XFLAGS")
		c.expect(`f FETCH 1 FLAGS`, `* 1 FETCH (FLAGS (\Flagged \Recent))`, "f OK FETCH completed")

		c.expect("g COPY 1:2 Archive", "g NO [TRYCREATE] Mailbox does not exist")
		c.expect("h CREATE Archive", "h OK CREATE completed")
		c.expect("i COPY 1:2 Archive", "i OK [COPYUID 837596665 1:2 1:2] COPY completed")
		c.expect("j UID COPY 3 INBOX", "* 4 EXISTS", "* 4 RECENT", "j OK [COPYUID 837596665 3 4] COPY completed")
		c.expect("k STATUS Archive (MESSAGES UNSEEN UIDNEXT RECENT UIDVALIDITY)",
			"* STATUS Archive (MESSAGES 2 UNSEEN 1 UIDNEXT 3 RECENT 2 UIDVALIDITY 837596665)", "k OK STATUS completed")
		c.expect("k STATUS Archive (BOGUS)", "k BAD Invalid status item BOGUS")
		c.expect("k STATUS Nope (MESSAGES)", "k NO [NONEXISTENT] Mailbox does not exist")

		c.expect(`l STORE 1:4 +FLAGS.SILENT \Deleted`, "l OK STORE completed")
		c.expect("m UID EXPUNGE 2:3", "* 2 EXPUNGE", "* 2 EXPUNGE", "m OK EXPUNGE completed")
		c.expect("n FETCH 1:* UID", "* 1 FETCH (UID 1)", "* 2 FETCH (UID 4)", "n OK FETCH completed")
		c.expect("o CLOSE", "o OK CLOSE completed")
		c.expect("p FETCH 1 UID", "p BAD No mailbox selected")
		c.expect("q SELECT INBOX", `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
			`* OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted`,
			"* 0 EXISTS", "* 0 RECENT",
			"* OK [UIDVALIDITY 837596665] UIDs valid", "* OK [UIDNEXT 5] Predicted next UID",
			"q OK [READ-WRITE] SELECT completed")
		c.expect("r FETCH 1:* UID", "r OK FETCH completed")
		c.expect("s SELECT Nope", "s NO [NONEXISTENT] Mailbox does not exist")
		c.expect("t FETCH 1:* UID", "t BAD No mailbox selected")
		c.expect(`u LIST "" %`, `* LIST () "." Archive`, `* LIST () "." INBOX`, "u OK LIST completed")
		c.expect(`v LSUB "" ""`, `* LSUB (\Noselect) "." ""`, "v OK LSUB completed")
		c.expect("w SUBSCRIBE Archive", "w OK SUBSCRIBE completed")
	})
}
