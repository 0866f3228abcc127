package mail_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
)

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return t0 }

// backends runs fn against every backend, each with a fresh store; reopen
// gives a new store over the same storage, as a restarted server would
// see it.
func backends(t *testing.T, fn func(t *testing.T, st *mail.Store, reopen func() *mail.Store)) {
	t.Run("memory", func(t *testing.T) {
		b := mail.NewMemory(clock)
		fn(t, mail.NewStore(b), func() *mail.Store { return mail.NewStore(b) })
	})
	t.Run("maildir", func(t *testing.T) {
		dir := t.TempDir()
		open := func() *mail.Store {
			b, err := mail.NewMaildir(dir, clock)
			if err != nil {
				t.Fatal(err)
			}
			return mail.NewStore(b)
		}
		fn(t, open(), open)
	})
}

func inbox(t *testing.T, st *mail.Store) *mail.Mailbox {
	t.Helper()
	a, err := st.Account("demo")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := a.Mailbox("inbox")
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

type counter struct{ n int }

func (c *counter) MailboxChanged(*mail.Mailbox) { c.n++ }

func flags(t *testing.T, f ...string) mail.Flags {
	t.Helper()
	fl, err := mail.NewFlags(f...)
	if err != nil {
		t.Fatal(err)
	}
	return fl
}

func TestMailbox(t *testing.T) {
	backends(t, func(t *testing.T, st *mail.Store, reopen func() *mail.Store) {
		mb := inbox(t, st)
		if mb.Name() != "INBOX" || len(mb.Messages()) != 0 || mb.UIDNext() != 1 {
			t.Fatalf("new INBOX: %s with %d messages, next %d", mb.Name(), len(mb.Messages()), mb.UIDNext())
		}
		var w counter
		cancel := mb.Watch(&w)
		m1, err := mb.Append([]byte("Subject: one\r\n\r\nbody\r\n"), flags(t, `\seen`, "$Label1"), t0)
		if err != nil {
			t.Fatal(err)
		}
		m2, _ := mb.Append([]byte("Subject: two\r\n\r\n"), nil, t0.Add(time.Hour))
		m3, _ := mb.Append([]byte("Subject: three\r\n\r\n"), nil, t0)
		if m1.UID() != 1 || m2.UID() != 2 || m3.UID() != 3 || w.n != 3 {
			t.Fatalf("uids %d %d %d, %d notifications", m1.UID(), m2.UID(), m3.UID(), w.n)
		}
		seq := mb.ModSeq()
		changed, err := mb.Store([]*mail.Message{m1, m2}, mail.AddFlags, flags(t, `\Deleted`, `\Seen`))
		if err != nil || len(changed) != 2 || w.n != 4 || m2.ModSeq() <= seq {
			t.Fatalf("store: %d changed, %v, %d notifications", len(changed), err, w.n)
		}
		if changed, _ := mb.Store([]*mail.Message{m1}, mail.AddFlags, flags(t, `\Seen`)); len(changed) != 0 || w.n != 4 {
			t.Error("a STORE that changes nothing notified or reported a change")
		}
		snapshot := mb.Messages()
		uids, err := mb.Expunge(func(m *mail.Message) bool { return m.Flags().Has(mail.Deleted) && m.UID() != 2 })
		if err != nil || !cmp.Equal(uids, []uint32{1}) || w.n != 5 || mb.ExpungeSeq() != mb.ModSeq() {
			t.Fatalf("expunge: %v %v, %d notifications", uids, err, w.n)
		}
		if len(snapshot) != 3 || len(mb.Messages()) != 2 || mb.ByUID(1) != nil || mb.ByUID(3) != m3 {
			t.Error("expunge changed an old snapshot or left the message")
		}
		cancel()
		mb.Append([]byte("x\r\n"), nil, t0)
		if w.n != 5 {
			t.Error("cancelled watcher still told")
		}
		if st := mb.Status(); st.Messages != 3 || st.Unseen != 2 || st.FirstUnseen != 2 || st.Recent != 3 {
			t.Errorf("status %+v", st)
		}
		if lo, hi := mb.ClaimRecent(); lo != 1 || hi != 5 {
			t.Errorf("claim recent [%d,%d)", lo, hi)
		}
		if lo, hi := mb.ClaimRecent(); lo != hi {
			t.Error("recent claimed twice")
		}
		data, err := mb.Read(m3)
		if err != nil || string(data) != "Subject: three\r\n\r\n" {
			t.Errorf("read %q %v", data, err)
		}

		// A new store over the same storage sees the same mailbox.
		again := inbox(t, reopen())
		type row struct {
			UID   uint32
			Flags mail.Flags
			Size  int64
			Date  time.Time
		}
		var want, got []row
		for _, m := range mb.Messages() {
			want = append(want, row{m.UID(), m.Flags(), m.Size(), m.Date()})
		}
		for _, m := range again.Messages() {
			got = append(got, row{m.UID(), m.Flags(), m.Size(), m.Date().UTC()})
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reopened mismatch (-want +got):\n%s", diff)
		}
		if again.UIDValidity() != mb.UIDValidity() || again.UIDNext() != 5 {
			t.Errorf("reopened validity %d next %d", again.UIDValidity(), again.UIDNext())
		}
	})
}

func TestAccount(t *testing.T) {
	backends(t, func(t *testing.T, st *mail.Store, reopen func() *mail.Store) {
		a, _ := st.Account("demo")
		for _, n := range []string{"Sent", "Work.2024.", "Work.Old"} {
			if err := a.Create(n); err != nil {
				t.Fatalf("create %s: %v", n, err)
			}
		}
		for _, n := range []string{"inbox", "Sent", "a..b", ".x", "a/b", "50%", "caf\xc3\xa9"} {
			if err := a.Create(n); err == nil {
				t.Errorf("create %q: no error", n)
			} else if !errors.Is(err, mail.ErrExists) && !errors.Is(err, mail.ErrName) {
				t.Errorf("create %q: %v", n, err)
			}
		}
		if _, err := a.Mailbox("Nope"); !errors.Is(err, mail.ErrNoMailbox) {
			t.Errorf("open missing: %v", err)
		}
		list := func(ref, pat string) []mail.ListEntry {
			l, err := a.List(ref, pat)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		want := []mail.ListEntry{{Name: "INBOX"}, {Name: "Sent"}, {Name: "Work", NoSelect: true}, {Name: "Work.2024"}, {Name: "Work.Old"}}
		if diff := cmp.Diff(want, list("", "*")); diff != "" {
			t.Errorf("LIST * mismatch (-want +got):\n%s", diff)
		}
		want = []mail.ListEntry{{Name: "INBOX"}, {Name: "Sent"}, {Name: "Work", NoSelect: true}}
		if diff := cmp.Diff(want, list("", "%")); diff != "" {
			t.Errorf("LIST %% mismatch (-want +got):\n%s", diff)
		}
		want = []mail.ListEntry{{Name: "Work.2024"}, {Name: "Work.Old"}}
		if diff := cmp.Diff(want, list("Work.", "%")); diff != "" {
			t.Errorf("LIST Work. %% mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]mail.ListEntry{{Name: "INBOX"}}, list("", "inBox")); diff != "" {
			t.Errorf("LIST inBox mismatch (-want +got):\n%s", diff)
		}
		b, _ := reopen().Account("demo")
		if _, err := b.Mailbox("Work.2024"); err != nil {
			t.Errorf("created mailbox not there after reopen: %v", err)
		}
	})
}

func TestFlags(t *testing.T) {
	f := flags(t, "$Junk", `\SEEN`, `\draft`, "$junk")
	if diff := cmp.Diff(mail.Flags{"$Junk", `\Draft`, `\Seen`}, f); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`\Recent`, `\Bogus`} {
		if _, err := mail.NewFlags(bad); !errors.Is(err, mail.ErrFlag) {
			t.Errorf("%s: %v, want ErrFlag", bad, err)
		}
	}
	if !f.Equal(mail.Flags{`\Seen`, `\Draft`, "$JUNK"}) || f.Equal(mail.Flags{`\Seen`}) {
		t.Error("Equal")
	}
	if got := f.Minus(mail.Flags{"$JUNK"}).Union(mail.Flags{`\Flagged`}); !got.Equal(mail.Flags{`\Draft`, `\Seen`, `\Flagged`}) {
		t.Errorf("Minus/Union: %v", got)
	}
}
