package session_test

import (
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

func TestSearch(t *testing.T) {
	eachBackend(t, func(t *testing.T, backend func(*session.Config)) {
		srv := newServer(t, backend)
		mb := srv.inbox(t, "demo")
		msgs := []struct {
			text  string
			flags mail.Flags
			date  time.Time
		}{
			{"From: Ann <ann@x.test>\nSubject: Lunch\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\nsoup today\n",
				mail.Flags{mail.Seen}, time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)},
			{"From: bob@y.test\nTo: ann@x.test\nSubject: =?utf-8?q?Caf=C3=A9?= plans\nX-Prio: 1\n\nsee you\n",
				mail.Flags{mail.Flagged, "$Work"}, time.Date(2024, 2, 1, 23, 30, 0, 0, time.FixedZone("", -5*3600))},
			{"From: carol@z.test\nSubject: big\n\n" + string(make([]byte, 2000)) + "\n",
				mail.Flags{mail.Deleted, mail.Seen}, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		}
		for _, m := range msgs {
			if _, err := mb.Append([]byte(crlf(m.text)), m.flags, m.date); err != nil {
				t.Fatal(err)
			}
		}
		c := srv.connect(t).login("INBOX")
		tests := []struct{ query, want string }{
			{"ALL", "1 2 3"},
			{"SEEN", "1 3"},
			{"UNSEEN", "2"},
			{"DELETED", "3"},
			{"UNDELETED", "1 2"},
			{"FLAGGED", "2"},
			{"KEYWORD $work", "2"},
			{"UNKEYWORD $Work", "1 3"},
			{"RECENT", "1 2 3"},
			{"NEW", "2"},
			{"FROM ann", "1"},
			{`TO "ANN@x"`, "2"},
			{"SUBJECT café", "2"},
			{"SUBJECT lunch", "1"},
			{"HEADER X-Prio \"\"", "2"},
			{"HEADER x-prio 2", ""},
			{"BODY soup", "1"},
			{"TEXT lunch", "1"},
			{"LARGER 1000", "3"},
			{"SMALLER 1000", "1 2"},
			{"SINCE 1-Feb-2024", "2 3"},
			{"BEFORE 1-Feb-2024", "1"},
			{"ON 1-Feb-2024", "2"},
			{"SENTON 1-Jan-2024", "1"},
			{"SENTSINCE 2-Jan-2024", ""},
			{"UID 2:*", "2 3"},
			{"2,3", "2 3"},
			{"*", "3"},
			{"NOT SEEN", "2"},
			{"OR DELETED FLAGGED", "2 3"},
			{"OR (SEEN FROM ann) (NOT OR SEEN DELETED)", "1 2"},
			{"SEEN NOT DELETED", "1"},
			{"CHARSET UTF-8 SUBJECT plans", "2"},
		}
		for _, tt := range tests {
			want := "* SEARCH"
			if tt.want != "" {
				want += " " + tt.want
			}
			c.expect("s SEARCH "+tt.query, want, "s OK SEARCH completed")
		}
		c.expect("u UID SEARCH 2:3 UNSEEN", "* SEARCH 2", "u OK SEARCH completed")
		c.expect("b SEARCH CHARSET KOI8-R ALL", "b NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset")
		c.expect("b SEARCH OR SEEN", "b BAD Missing search key")
		c.expect("b SEARCH BEFORE 1-Jan", "b BAD Invalid date")
	})
}
