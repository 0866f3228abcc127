package session

import (
	"slices"
	"sort"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// view is what a session has told its client about the selected mailbox:
// the UIDs in sequence-number order (some may have been expunged since,
// until the session may say so) and how far it has reported changes. It
// is compared with the mailbox at every point where RFC 3501 lets the
// server send updates (sync).
type view struct {
	mb       *mail.Mailbox
	readOnly bool
	uids     []uint32          // seq-1 -> UID, ascending
	modSeq   uint64            // changes up to this have been reported
	expSeq   uint64            // expunges up to this have been reported
	recent   map[uint32]bool   // messages this session sees as \Recent; nil while none
	sent     map[uint32]uint64 // flag changes already reported by the command itself
	checkAll bool              // expunges before expSeq are unknown: compare every UID
	cancel   func()
}

// markRecent adds uid to the messages the session sees as \Recent. The
// map is made for the first: most sessions (every one idling in
// a mailbox whose new mail others have claimed) never need it.
func (v *view) markRecent(uid uint32) {
	if v.recent == nil {
		v.recent = map[uint32]bool{}
	}
	v.recent[uid] = true
}

// MailboxChanged implements mail.Watcher: a session in IDLE sends the
// change at once (RFC 2177), any other waits for its next command.
func (s *Session) MailboxChanged(mb *mail.Mailbox) {
	if s.idling && s.view != nil && s.view.mb == mb && !s.closed {
		s.sync(true)
		s.w.Flush()
	}
}

// open makes mb the selected mailbox, its view everything in it now.
func (s *Session) open(mb *mail.Mailbox, readOnly bool) *view {
	s.deselect()
	v := &view{mb: mb, readOnly: readOnly, modSeq: mb.ModSeq(), expSeq: mb.ExpungeSeq()}
	for _, m := range mb.Messages() {
		v.uids = append(v.uids, m.UID())
	}
	v.claimRecent(0)
	v.cancel = mb.Watch(s)
	s.view, s.state = v, selected
	return v
}

func (s *Session) deselect() {
	if s.view != nil {
		s.view.cancel()
		s.view = nil
	}
	if s.state == selected {
		s.state = authenticated
	}
}

// claimRecent marks as \Recent the messages after UID from that no other
// session has claimed; a read-only view looks without claiming.
func (v *view) claimRecent(from uint32) {
	lo, hi := v.mb.PeekRecent()
	if !v.readOnly {
		lo, hi = v.mb.ClaimRecent()
	}
	i := sort.Search(len(v.uids), func(i int) bool { return v.uids[i] >= max(lo, from+1) })
	for ; i < len(v.uids) && v.uids[i] < hi; i++ {
		v.markRecent(v.uids[i])
	}
}

// sync reports what changed in the mailbox since the view was last
// brought up to date: EXPUNGE (only when expunge is true: RFC 3501 7.4.1
// forbids it during FETCH, STORE and SEARCH), FETCH FLAGS for flag
// changes the client has not already been told of, then EXISTS and
// RECENT for new messages.
func (s *Session) sync(expunge bool) {
	v := s.view
	mb := v.mb
	expunges := expunge && (mb.ExpungeSeq() > v.expSeq || v.checkAll)
	if mb.ModSeq() == v.modSeq && !expunges {
		return
	}
	msgs := mb.Messages()
	if expunges {
		k := 0
		j := 0
		for _, uid := range v.uids {
			for j < len(msgs) && msgs[j].UID() < uid {
				j++
			}
			if j < len(msgs) && msgs[j].UID() == uid {
				v.uids[k] = uid
				k++
				continue
			}
			// The messages before it have been renumbered already.
			s.w.Raw("* ")
			s.w.Number(uint64(k + 1))
			s.w.Raw(" EXPUNGE\r\n")
			delete(v.recent, uid)
		}
		v.uids = v.uids[:k]
		v.expSeq, v.checkAll = mb.ExpungeSeq(), false
	}
	var last uint32
	if len(v.uids) > 0 {
		last = v.uids[len(v.uids)-1]
	}
	j := 0
	for i, uid := range v.uids {
		for j < len(msgs) && msgs[j].UID() < uid {
			j++
		}
		if j == len(msgs) {
			break
		}
		if m := msgs[j]; m.UID() == uid && m.ModSeq() > v.modSeq && v.sent[uid] != m.ModSeq() {
			s.writeFlagsFetch(i+1, m, true)
		}
	}
	n := len(v.uids)
	for k := sort.Search(len(msgs), func(k int) bool { return msgs[k].UID() > last }); k < len(msgs); k++ {
		v.uids = append(v.uids, msgs[k].UID())
	}
	if len(v.uids) > n {
		v.claimRecent(last)
		s.w.Raw("* ")
		s.w.Number(uint64(len(v.uids)))
		s.w.Raw(" EXISTS\r\n* ")
		s.w.Number(uint64(len(v.recent)))
		s.w.Raw(" RECENT\r\n")
	}
	v.modSeq = mb.ModSeq()
	v.sent = nil
}

// writeFlagsFetch writes "* seq FETCH (FLAGS (...) [UID n])".
func (s *Session) writeFlagsFetch(seq int, m *mail.Message, withUID bool) {
	s.w.Raw("* ")
	s.w.Number(uint64(seq))
	s.w.Raw(" FETCH (")
	s.writeFlags(m)
	if withUID {
		s.w.Raw(" UID ")
		s.w.Number(uint64(m.UID()))
	}
	s.w.Raw(")\r\n")
}

// writeFlags writes "FLAGS (...)" with the session's \Recent, and notes
// that the client now knows the message's flags.
func (s *Session) writeFlags(m *mail.Message) {
	s.w.Raw("FLAGS (")
	for i, f := range m.Flags() {
		if i > 0 {
			s.w.Byte(' ')
		}
		s.w.Raw(f)
	}
	if s.view.recent[m.UID()] {
		if len(m.Flags()) > 0 {
			s.w.Byte(' ')
		}
		s.w.Raw(mail.Recent)
	}
	s.w.Byte(')')
	s.noteSent(m)
}

func (s *Session) noteSent(m *mail.Message) {
	if s.view.sent == nil {
		s.view.sent = map[uint32]uint64{}
	}
	s.view.sent[m.UID()] = m.ModSeq()
}

// resolve turns a sequence set (or, with uid, a UID set) into positions
// in the view, ascending and without repeats. A sequence number past the
// end is an error unless it came from "*"; UIDs that do not exist are
// skipped, as RFC 3501 says of UID ranges.
func (v *view) resolve(set proto.SeqSet, uid bool) ([]int, error) {
	type span struct{ lo, hi int } // view positions, inclusive
	var spans []span
	n := len(v.uids)
	for _, r := range set {
		if uid {
			var star uint32
			if n > 0 {
				star = v.uids[n-1]
			}
			lo, hi := r.Bounds(star)
			a := sort.Search(n, func(i int) bool { return v.uids[i] >= lo })
			b := sort.Search(n, func(i int) bool { return v.uids[i] > hi })
			if a < b {
				spans = append(spans, span{a, b - 1})
			}
			continue
		}
		lo, hi := r.Bounds(uint32(n))
		if r.Lo != 0 && r.Hi != 0 && hi > uint32(n) {
			return nil, &proto.Error{Status: "BAD", Text: "Invalid message sequence number", Err: proto.ErrSyntax}
		}
		// A range ending in "*" includes the last message whatever its
		// other end, as for UIDs.
		lo, hi = max(lo, 1), min(hi, uint32(n))
		if lo <= hi {
			spans = append(spans, span{int(lo) - 1, int(hi) - 1})
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return a.lo - b.lo })
	var out []int
	next := 0
	for _, sp := range spans {
		for i := max(sp.lo, next); i <= sp.hi; i++ {
			out = append(out, i)
		}
		next = max(next, sp.hi+1)
	}
	return out, nil
}
