package session_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

type changes struct{ n int }

func (c *changes) MailboxChanged(*mail.Mailbox) { c.n++ }

// roundTrip marshals and unmarshals st, as the hand-over to the
// hibernation process and back does.
func roundTrip(t *testing.T, st *session.State) *session.State {
	t.Helper()
	b, err := st.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got session.State
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, &got); diff != "" {
		t.Fatalf("round trip mismatch (-want +got):\n%s", diff)
	}
	return &got
}

func TestHibernate(t *testing.T) {
	srv := newServer(t)
	mb := srv.inbox(t, "demo")
	add(t, mb, "a\n\n", "b\n\n")
	idler := srv.connect(t).login("INBOX")
	other := srv.connect(t).login("INBOX")

	if _, err := idler.s.Hibernate(); !errors.Is(err, session.ErrNotIdle) {
		t.Errorf("Hibernate outside IDLE: %v", err)
	}
	idler.expect("i1 IDLE", "+ idling")
	st, err := idler.s.Hibernate()
	if err != nil {
		t.Fatal(err)
	}
	want := &session.State{User: "demo", Mailbox: "INBOX", UIDValidity: uint32(t0.Unix()), Epoch: srv.cfg.Store.Epoch(),
		ModSeq: mb.ModSeq(), UIDs: []uint32{1, 2}, Recent: []uint32{1, 2}, Tag: "i1"}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("state mismatch (-want +got):\n%s", diff)
	}
	var w changes
	cancel, err := session.Watch(srv.cfg, st, &w)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()

	// Only new messages: the hibernated connection can say EXISTS itself.
	other.do("o1 APPEND INBOX {3+}\r\nc\r\n")
	out, ok, err := session.Updates(srv.cfg, st)
	if err != nil || !ok || string(out) != "* 3 EXISTS\r\n* 2 RECENT\r\n" || w.n != 1 {
		t.Fatalf("Updates after APPEND: %q %v %v, %d changes", out, ok, err, w.n)
	}
	if out, ok, _ := session.Updates(srv.cfg, st); !ok || out != nil {
		t.Errorf("Updates with nothing new: %q %v", out, ok)
	}
	// A flag change and an expunge: the session must be resumed to tell.
	other.do(`o2 STORE 1 +FLAGS.SILENT (\Deleted)`)
	other.do("o3 EXPUNGE")
	other.do(`o4 STORE 1 +FLAGS.SILENT (\Seen)`)
	if _, ok, _ := session.Updates(srv.cfg, st); ok {
		t.Error("Updates after STORE and EXPUNGE: ok")
	}
	st = roundTrip(t, st)
	st.Input = []byte("DONE\r\n")
	st = roundTrip(t, st)

	resumed := &fakeOut{}
	s, next, err := session.Resume(srv.cfg, resumed, st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if next.Op != session.ReadLine || !next.Idle {
		t.Errorf("next %+v, want ReadLine in IDLE", next)
	}
	if got, want := resumed.take(), "* 1 EXPUNGE\r\n* 1 FETCH (FLAGS (\\Seen \\Recent) UID 2)\r\n"; got != want {
		t.Errorf("resumed with %q, want %q", got, want)
	}
	s.Line(st.Input)
	if got := resumed.take(); got != "i1 OK IDLE terminated\r\n" {
		t.Errorf("DONE: %q", got)
	}
	s.Line([]byte("x FETCH 1:* UID\r\n"))
	if got, want := resumed.take(), "* 1 FETCH (UID 2)\r\n* 2 FETCH (UID 3)\r\nx OK FETCH completed\r\n"; got != want {
		t.Errorf("FETCH after resume: %q, want %q", got, want)
	}
}

func TestResumeStale(t *testing.T) {
	srv := newServer(t)
	add(t, srv.inbox(t, "demo"), "a\n\n")
	st := &session.State{User: "demo", Mailbox: "INBOX", UIDValidity: 1, UIDs: []uint32{1}, Tag: "t"}
	if _, _, err := session.Resume(srv.cfg, &fakeOut{}, st); !errors.Is(err, session.ErrStaleState) {
		t.Errorf("Resume with another UIDVALIDITY: %v", err)
	}
	// Another store's history (a restarted server): every flag is told
	// again, which is always correct.
	st.UIDValidity = uint32(t0.Unix())
	st.Epoch = srv.cfg.Store.Epoch() + 1
	st.UIDs = []uint32{1, 2} // 2 was expunged before the restart
	out := &fakeOut{}
	s, _, err := session.Resume(srv.cfg, out, st)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := out.take(); got != "* 2 EXPUNGE\r\n* 1 FETCH (FLAGS () UID 1)\r\n" {
		t.Errorf("resume from another epoch: %q", got)
	}
	st.UIDs = []uint32{1}
	// DONE answered by the hibernated connection: resumed outside IDLE.
	st.Tag = ""
	s2, next, err := session.Resume(srv.cfg, out, st)
	if err != nil || next.Idle {
		t.Fatalf("resume after DONE: %+v %v", next, err)
	}
	defer s2.Close()
	s2.Line([]byte("a NOOP\r\n"))
	if got := out.take(); !bytes.HasSuffix([]byte(got), []byte("a OK NOOP completed\r\n")) {
		t.Errorf("NOOP after resume: %q", got)
	}
}

// FuzzState: decoding never panics, and what decodes survives a round
// trip unchanged.
func FuzzState(f *testing.F) {
	st := &session.State{User: "demo", Mailbox: "INBOX", UIDs: []uint32{1, 2, 3, 7, 9, 10}, Recent: []uint32{9}, Tag: "a1", Input: []byte("DONE\r\n")}
	b, _ := st.MarshalBinary()
	f.Add(b)
	f.Add([]byte("IMAPST\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s session.State
		if s.UnmarshalBinary(data) != nil {
			return
		}
		again, err := s.MarshalBinary()
		var s2 session.State
		if err != nil || s2.UnmarshalBinary(again) != nil || !cmp.Equal(s, s2) {
			t.Fatalf("%q: round trip changed %+v into %+v (%v)", data, s, s2, err)
		}
	})
}
