package session

import (
	"fmt"
	"sort"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// State is an idling session handed over for hibernation, as Dovecot's
// imap-hibernate does: everything needed to rebuild the session later, in
// this process or after passing the connection's descriptor elsewhere.
//
// A hibernated connection answers on its own, without a session:
//
//   - every keep-alive interval, "* OK Still here\r\n";
//   - "DONE\r\n": "<Tag> OK IDLE terminated\r\n", and if the client at once
//     sends "<tag2> IDLE\r\n", "+ idling\r\n" with Tag = tag2 (still
//     hibernated, as Dovecot does for DONE+IDLE);
//   - when the server reports new messages ([Updates] with ok), the bytes
//     Updates returned ("* n EXISTS", "* r RECENT");
//   - anything else from the client, or Updates with !ok (expunges or flag
//     changes to report): it resumes the session ([Resume]), with every
//     byte it has read but not answered in Input. If DONE was answered
//     already, Tag is "" and the session resumes outside IDLE.
type State struct {
	User        string
	TLS         bool // TLS was active (the capability list depends on it)
	Mailbox     string
	ReadOnly    bool
	UIDValidity uint32
	// Epoch, ModSeq and ExpungeSeq place the view in the mailbox's change
	// history; they mean something only to the same mail.Store (Epoch).
	Epoch, ModSeq, ExpungeSeq uint64
	// UIDs are the messages the client knows, in sequence order: its
	// EXISTS count is len(UIDs), its highest UID the last.
	UIDs   []uint32
	Recent []uint32 // the UIDs this session sees as \Recent
	Tag    string   // the IDLE command's tag, "" when not idling
	// Input holds client bytes read from the connection but not given to
	// the session; the connection layer fills it, and after Resume feeds
	// them as lines before reading the socket again.
	Input []byte
}

// Hibernate ends an idling session and returns its State; the session is
// closed (it leaves its mailbox) and the connection layer owns the
// client from here on.
func (s *Session) Hibernate() (*State, error) {
	if !s.idling || s.closed || s.job != nil {
		return nil, ErrNotIdle
	}
	st := &State{User: s.user, TLS: s.tls, Tag: s.idleTag, Epoch: s.cfg.Store.Epoch()}
	if v := s.view; v != nil {
		st.Mailbox, st.ReadOnly, st.UIDValidity = v.mb.Name(), v.readOnly, v.mb.UIDValidity()
		st.ModSeq, st.ExpungeSeq = v.modSeq, v.expSeq
		st.UIDs = append([]uint32(nil), v.uids...)
		for u := range v.recent {
			st.Recent = append(st.Recent, u)
		}
		sort.Slice(st.Recent, func(i, j int) bool { return st.Recent[i] < st.Recent[j] })
	}
	s.idling, s.idleTag = false, ""
	s.Close()
	return st, nil
}

// Resume rebuilds a session from st, writing to out, and reports at once
// what changed while it slept (it is in IDLE, where RFC 2177 allows that).
// The user is trusted: st came from this server. A mailbox gone or
// recreated (another UIDVALIDITY) is ErrStaleState: say BYE and close.
func Resume(cfg *Config, out proto.Out, st *State) (*Session, Next, error) {
	s := New(cfg, out)
	acct, err := cfg.Store.Account(st.User)
	if err != nil {
		return nil, Next{Op: Close}, err
	}
	s.user, s.acct, s.state, s.tls = st.User, acct, authenticated, st.TLS
	if st.Mailbox != "" {
		mb, err := acct.Mailbox(st.Mailbox)
		if err != nil || mb.UIDValidity() != st.UIDValidity {
			return nil, Next{Op: Close}, fmt.Errorf("%w: mailbox %q", ErrStaleState, st.Mailbox)
		}
		v := &view{mb: mb, readOnly: st.ReadOnly, uids: append([]uint32(nil), st.UIDs...),
			modSeq: st.ModSeq, expSeq: st.ExpungeSeq}
		if st.Epoch != cfg.Store.Epoch() {
			// Another store's history: report every flag and check every UID.
			v.modSeq, v.expSeq, v.checkAll = 0, 0, true
		}
		for _, u := range st.Recent {
			v.markRecent(u)
		}
		v.cancel = mb.Watch(s)
		s.view, s.state = v, selected
	}
	if st.Tag != "" {
		s.idling, s.idleTag = true, st.Tag
		if s.view != nil {
			s.sync(true)
		}
	}
	return s, s.finish(), nil
}

// Updates is for a hibernated connection's watcher: what to send for the
// changes since st was taken, when they are only new messages. It then
// updates st as if the session had sent them. ok is false when there is
// more to tell (expunges, flag changes, another store): resume the
// session instead.
func Updates(cfg *Config, st *State) (out []byte, ok bool, err error) {
	if st.Mailbox == "" {
		return nil, true, nil
	}
	acct, err := cfg.Store.Account(st.User)
	if err != nil {
		return nil, false, err
	}
	mb, err := acct.Mailbox(st.Mailbox)
	if err != nil || mb.UIDValidity() != st.UIDValidity {
		return nil, false, fmt.Errorf("%w: mailbox %q", ErrStaleState, st.Mailbox)
	}
	if st.Epoch != cfg.Store.Epoch() || mb.ExpungeSeq() > st.ExpungeSeq {
		return nil, false, nil
	}
	var last uint32
	if len(st.UIDs) > 0 {
		last = st.UIDs[len(st.UIDs)-1]
	}
	var added []uint32
	for _, m := range mb.Messages() {
		switch {
		case m.UID() <= last && m.ModSeq() > st.ModSeq:
			return nil, false, nil // a flag change
		case m.UID() > last:
			added = append(added, m.UID())
		}
	}
	st.ModSeq = mb.ModSeq()
	if len(added) == 0 {
		return nil, true, nil
	}
	lo, hi := mb.PeekRecent()
	if !st.ReadOnly {
		lo, hi = mb.ClaimRecent()
	}
	for _, u := range added {
		if u >= lo && u < hi {
			st.Recent = append(st.Recent, u)
		}
	}
	st.UIDs = append(st.UIDs, added...)
	return fmt.Appendf(nil, "* %d EXISTS\r\n* %d RECENT\r\n", len(st.UIDs), len(st.Recent)), true, nil
}

// Watch registers w on the mailbox of a hibernated st, so the connection
// layer hears of changes and calls Updates.
func Watch(cfg *Config, st *State, w mail.Watcher) (cancel func(), err error) {
	if st.Mailbox == "" {
		return func() {}, nil
	}
	acct, err := cfg.Store.Account(st.User)
	if err != nil {
		return nil, err
	}
	mb, err := acct.Mailbox(st.Mailbox)
	if err != nil {
		return nil, err
	}
	return mb.Watch(w), nil
}
