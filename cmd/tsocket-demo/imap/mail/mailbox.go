package mail

import (
	"slices"
	"sort"
	"time"
)

// Message is one message's index entry. Its fields change only through
// its [Mailbox]; read them with the methods.
type Message struct {
	uid    uint32
	key    string
	flags  Flags
	date   time.Time
	size   int64
	modSeq uint64
}

// UID returns the message's unique identifier.
func (m *Message) UID() uint32 { return m.uid }

// Flags returns the stored flags (\Recent is the session's business).
func (m *Message) Flags() Flags { return m.flags }

// Date returns the INTERNALDATE.
func (m *Message) Date() time.Time { return m.date }

// Size returns RFC822.SIZE.
func (m *Message) Size() int64 { return m.size }

// ModSeq returns the mailbox's modification sequence at the message's
// last change (append or flags).
func (m *Message) ModSeq() uint64 { return m.modSeq }

// Watcher is told of every change to a mailbox it watches: an append,
// a flag change, an expunge. It runs on the mailbox's goroutine, inside
// the call that made the change, and must not change the mailbox itself;
// it compares the mailbox with what its client has been told (a session
// does this at its next point where RFC 3501 lets it send updates).
type Watcher interface {
	MailboxChanged(mb *Mailbox)
}

// Mailbox is one mailbox's index, shared by every session that has it
// selected: each sees the others' appends, flag changes and expunges
// through [Mailbox.Watch] and the modification sequence.
//
// Ownership: a Mailbox belongs to the goroutine of its [Store] (the
// server's loop). Nothing here locks; no method may be called from
// another goroutine.
type Mailbox struct {
	name     string
	folder   Folder
	validity uint32
	next     uint32
	msgs     []*Message // in UID order
	modSeq   uint64     // bumped by every change
	expSeq   uint64     // modSeq of the last expunge
	recent   uint32     // lowest UID no session has claimed as \Recent
	watchers []*watch
}

type watch struct{ w Watcher }

func openMailbox(name string, f Folder) (*Mailbox, error) {
	validity, next, stored, err := f.Load()
	if err != nil {
		return nil, err
	}
	mb := &Mailbox{name: name, folder: f, validity: validity, next: next, modSeq: 1, recent: next}
	for _, s := range stored {
		mb.msgs = append(mb.msgs, &Message{uid: s.UID, key: s.Key, flags: s.Flags, date: s.Date, size: s.Size, modSeq: 1})
	}
	return mb, nil
}

// Name returns the mailbox's name.
func (mb *Mailbox) Name() string { return mb.name }

// UIDValidity returns the UIDVALIDITY value.
func (mb *Mailbox) UIDValidity() uint32 { return mb.validity }

// UIDNext returns the UID the next message will get.
func (mb *Mailbox) UIDNext() uint32 { return mb.next }

// ModSeq returns the modification sequence, bumped by every change.
func (mb *Mailbox) ModSeq() uint64 { return mb.modSeq }

// ExpungeSeq returns the modification sequence of the last expunge.
func (mb *Mailbox) ExpungeSeq() uint64 { return mb.expSeq }

// Messages returns the messages in UID order. The slice is a snapshot:
// later changes do not alter it, but the caller must not either.
func (mb *Mailbox) Messages() []*Message { return mb.msgs[:len(mb.msgs):len(mb.msgs)] }

// ByUID returns the message with that UID, or nil.
func (mb *Mailbox) ByUID(uid uint32) *Message {
	i := sort.Search(len(mb.msgs), func(i int) bool { return mb.msgs[i].uid >= uid })
	if i < len(mb.msgs) && mb.msgs[i].uid == uid {
		return mb.msgs[i]
	}
	return nil
}

// Read returns a message's bytes, which the caller must not change.
func (mb *Mailbox) Read(m *Message) ([]byte, error) { return mb.folder.Read(m.key) }

// Watch registers w for changes; the returned function unregisters it.
func (mb *Mailbox) Watch(w Watcher) (cancel func()) {
	e := &watch{w}
	mb.watchers = append(mb.watchers, e)
	return func() {
		mb.watchers = slices.DeleteFunc(mb.watchers, func(x *watch) bool { return x == e })
	}
}

func (mb *Mailbox) notify() {
	for _, e := range slices.Clone(mb.watchers) {
		e.w.MailboxChanged(mb)
	}
}

// Append adds a message, taking data over (the backend may keep it
// without a copy), and tells the watchers.
func (mb *Mailbox) Append(data []byte, flags Flags, date time.Time) (*Message, error) {
	uid := mb.next
	key, err := mb.folder.Append(uid, flags, date, data)
	if err != nil {
		return nil, err
	}
	mb.next++
	mb.modSeq++
	m := &Message{uid: uid, key: key, flags: flags, date: date, size: int64(len(data)), modSeq: mb.modSeq}
	mb.msgs = append(mb.msgs, m)
	mb.notify()
	return m, nil
}

// FlagOp is how STORE changes flags.
type FlagOp uint8

const (
	SetFlags    FlagOp = iota // FLAGS
	AddFlags                  // +FLAGS
	RemoveFlags               // -FLAGS
)

// Store changes the flags of msgs and returns those whose flags changed.
// The watchers are told once, after all of them.
func (mb *Mailbox) Store(msgs []*Message, op FlagOp, flags Flags) ([]*Message, error) {
	var changed []*Message
	var err error
	seq := mb.modSeq + 1
	for _, m := range msgs {
		var nf Flags
		switch op {
		case SetFlags:
			nf = slices.Clone(flags)
		case AddFlags:
			nf = m.flags.Union(flags)
		case RemoveFlags:
			nf = m.flags.Minus(flags)
		}
		if nf.Equal(m.flags) {
			continue
		}
		if err = mb.folder.SetFlags(m.key, nf); err != nil {
			break
		}
		m.flags, m.modSeq = nf, seq
		changed = append(changed, m)
	}
	if len(changed) > 0 {
		mb.modSeq = seq
		mb.notify()
	}
	return changed, err
}

// Expunge removes the messages match selects (the caller checks
// \Deleted) and returns their UIDs in order.
func (mb *Mailbox) Expunge(match func(*Message) bool) ([]uint32, error) {
	var keys []string
	var uids []uint32
	for _, m := range mb.msgs {
		if match(m) {
			keys = append(keys, m.key)
			uids = append(uids, m.uid)
		}
	}
	if len(uids) == 0 {
		return nil, nil
	}
	if err := mb.folder.Expunge(keys); err != nil {
		return nil, err
	}
	// A new slice, so snapshots taken by Messages stay as they were.
	kept := make([]*Message, 0, len(mb.msgs)-len(uids))
	for _, m := range mb.msgs {
		if !match(m) {
			kept = append(kept, m)
		}
	}
	mb.msgs = kept
	mb.modSeq++
	mb.expSeq = mb.modSeq
	mb.notify()
	return uids, nil
}

// ClaimRecent gives the caller the \Recent flag of every message that
// arrived since the last claim, as RFC 3501 wants: one session sees a new
// message as recent, no other does. It returns the claimed UIDs' range
// [lo, hi).
func (mb *Mailbox) ClaimRecent() (lo, hi uint32) {
	lo, hi = mb.recent, mb.next
	mb.recent = mb.next
	return lo, hi
}

// PeekRecent returns the range [lo, hi) of UIDs ClaimRecent would claim,
// without claiming them (EXAMINE).
func (mb *Mailbox) PeekRecent() (lo, hi uint32) { return mb.recent, mb.next }

// Status is what STATUS and SELECT report.
type Status struct {
	Messages, Recent, Unseen uint32
	UIDNext, UIDValidity     uint32
	FirstUnseen              uint32 // sequence number, 0 if none
}

// Status counts the mailbox; Recent counts messages nobody has claimed.
func (mb *Mailbox) Status() Status {
	st := Status{Messages: uint32(len(mb.msgs)), UIDNext: mb.next, UIDValidity: mb.validity}
	for i, m := range mb.msgs {
		if m.uid >= mb.recent {
			st.Recent++
		}
		if !m.flags.Has(Seen) {
			st.Unseen++
			if st.FirstUnseen == 0 {
				st.FirstUnseen = uint32(i + 1)
			}
		}
	}
	return st
}

// Keywords returns the keywords set on any message, for SELECT's FLAGS.
func (mb *Mailbox) Keywords() []string {
	seen := map[string]bool{}
	var kw []string
	for _, m := range mb.msgs {
		for _, k := range m.flags.Keywords() {
			if !seen[k] {
				seen[k] = true
				kw = append(kw, k)
			}
		}
	}
	sort.Strings(kw)
	return kw
}
