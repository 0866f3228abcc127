package session_test

import (
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

// TestSessionsSeeEachOther: two sessions on one INBOX. Each hears of the
// other's appends, flag changes and expunges at its next command, with
// EXPUNGE held back during FETCH, STORE and SEARCH (RFC 3501 7.4.1) and
// sequence numbers renumbered for its own view.
func TestSessionsSeeEachOther(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend func(*session.Config)) {
		srv := newServer(t, backend)
		add(t, srv.inbox(t, "demo"), "Subject: 1\n\n", "Subject: 2\n\n", "Subject: 3\n\n", "Subject: 4\n\n", "Subject: 5\n\n")
		a := srv.connect(t).login("INBOX")
		b := srv.connect(t).login("INBOX")

		a.expect(`a1 STORE 2,4 +FLAGS.SILENT (\Deleted)`, "a1 OK STORE completed")
		b.expect("b1 NOOP",
			`* 2 FETCH (FLAGS (\Deleted) UID 2)`,
			`* 4 FETCH (FLAGS (\Deleted) UID 4)`,
			"b1 OK NOOP completed")
		a.expect("a2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE", "a2 OK EXPUNGE completed")

		// B may not hear of the expunges during FETCH; the messages it still
		// numbers 2 and 4 are gone, so it gets NO for them.
		b.expect("b2 FETCH 1:5 UID",
			"* 1 FETCH (UID 1)", "* 3 FETCH (UID 3)", "* 5 FETCH (UID 5)",
			"b2 NO [EXPUNGEISSUED] Some of the requested messages no longer exist")
		b.expect("b3 SEARCH ALL", "* SEARCH 1 3 5", "b3 OK SEARCH completed")
		// UID SEARCH may carry them; so may NOOP.
		b.expect("b4 UID SEARCH ALL", "* SEARCH 1 3 5", "* 2 EXPUNGE", "* 3 EXPUNGE", "b4 OK SEARCH completed")
		b.expect("b5 FETCH 1:* UID", "* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)", "* 3 FETCH (UID 5)", "b5 OK FETCH completed")

		// Appends: EXISTS, even during FETCH. \Recent goes to the first
		// session to hear of a message (A took 1-5 when it selected first).
		add(t, srv.inbox(t, "demo"), "Subject: 6\n\n")
		b.expect("b6 FETCH 1 UID", "* 1 FETCH (UID 1)", "* 4 EXISTS", "* 1 RECENT", "b6 OK FETCH completed")
		a.expect("a3 STORE 1 FLAGS (\\Seen)",
			`* 1 FETCH (FLAGS (\Seen \Recent))`,
			"* 4 EXISTS", "* 3 RECENT",
			"a3 OK STORE completed")
		b.expect("b7 STORE 2 +FLAGS (\\Flagged)",
			`* 2 FETCH (FLAGS (\Flagged))`,
			`* 1 FETCH (FLAGS (\Seen) UID 1)`,
			"b7 OK STORE completed")
		a.expect("a4 CHECK", `* 2 FETCH (FLAGS (\Flagged \Recent) UID 3)`, "a4 OK NOOP completed")
		// A session's own changes are not echoed back to it.
		b.expect("b8 NOOP", "b8 OK NOOP completed")
		a.expect("a5 NOOP", "a5 OK NOOP completed")
	})
}

// TestExpungeRenumbering: several expunges in one go, each EXPUNGE
// numbered after the ones before it.
func TestExpungeRenumbering(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend func(*session.Config)) {
		srv := newServer(t, backend)
		mb := srv.inbox(t, "demo")
		add(t, mb, "a\n\n", "b\n\n", "c\n\n", "d\n\n", "e\n\n", "f\n\n")
		b := srv.connect(t).login("INBOX")
		a := srv.connect(t).login("INBOX")
		a.expect(`a1 STORE 1,3,4,6 +FLAGS.SILENT \Deleted`, "a1 OK STORE completed")
		a.expect("a2 UID EXPUNGE 1:4", "* 1 EXPUNGE", "* 2 EXPUNGE", "* 2 EXPUNGE", "a2 OK EXPUNGE completed")
		a.expect("a3 FETCH 1:* UID", "* 1 FETCH (UID 2)", "* 2 FETCH (UID 5)", "* 3 FETCH (UID 6)", "a3 OK FETCH completed")
		// Expunges come first, so flag changes are told only of messages that
		// remain, numbered as the client numbers them by then.
		b.expect("b1 CHECK",
			"* 1 EXPUNGE", "* 2 EXPUNGE", "* 2 EXPUNGE",
			`* 3 FETCH (FLAGS (\Deleted \Recent) UID 6)`,
			"b1 OK NOOP completed")
		b.expect("b2 FETCH 1:* UID", "* 1 FETCH (UID 2)", "* 2 FETCH (UID 5)", "* 3 FETCH (UID 6)", "b2 OK FETCH completed")
		a.expect("a4 CLOSE", "a4 OK CLOSE completed")
		b.expect("b3 NOOP", "* 3 EXPUNGE", "b3 OK NOOP completed")
		b.expect("b4 EXAMINE INBOX", `* FLAGS (\Answered \Flagged \Deleted \Seen \Draft)`,
			`* OK [PERMANENTFLAGS ()] No permanent flags permitted`,
			"* 2 EXISTS", "* 0 RECENT", "* OK [UNSEEN 1] First unseen",
			"* OK [UIDVALIDITY 837596665] UIDs valid", "* OK [UIDNEXT 7] Predicted next UID",
			"b4 OK [READ-ONLY] EXAMINE completed")
		b.expect(`b5 STORE 1 +FLAGS \Seen`, "b5 NO Mailbox is read-only")
		b.expect("b6 EXPUNGE", "b6 NO Mailbox is read-only")
	})
}
