package session

import (
	"fmt"
	"strings"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

const noLongerExist = "Some of the requested messages no longer exist"

func cmdStore(s *Session, tag string, a *args) result {
	return store(s, tag, a, false)
}

func cmdCopy(s *Session, tag string, a *args) result {
	return doCopy(s, tag, a, false)
}

func cmdSearch(s *Session, tag string, a *args) result {
	return search(s, tag, a, false)
}

// messages resolves a set to the view's positions and the messages still
// in the mailbox; missing reports positions whose message was expunged
// by another session and not yet announced.
func (s *Session) messages(set proto.SeqSet, uid bool) (pos []int, msgs []*mail.Message, missing bool, err error) {
	pos, err = s.view.resolve(set, uid)
	if err != nil {
		return nil, nil, false, err
	}
	kept := pos[:0]
	for _, p := range pos {
		if m := s.view.mb.ByUID(s.view.uids[p]); m != nil {
			kept = append(kept, p)
			msgs = append(msgs, m)
		} else {
			missing = true
		}
	}
	return kept, msgs, missing, nil
}

// store is STORE and UID STORE (RFC 3501 6.4.6).
func store(s *Session, tag string, a *args, uid bool) result {
	s.noExpunge = !uid
	set, item, list := get(a, a.SeqSet), get(a, a.Atom), get(a, a.StoreFlags)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	item = strings.ToUpper(item)
	silent := strings.HasSuffix(item, ".SILENT")
	var op mail.FlagOp
	switch strings.TrimSuffix(item, ".SILENT") {
	case "FLAGS":
		op = mail.SetFlags
	case "+FLAGS":
		op = mail.AddFlags
	case "-FLAGS":
		op = mail.RemoveFlags
	default:
		return bad("Invalid STORE item " + item)
	}
	flags, err := mail.NewFlags(list...)
	if err != nil {
		return bad("Invalid flag in STORE")
	}
	if s.view.readOnly {
		return no("", "Mailbox is read-only")
	}
	pos, msgs, missing, err := s.messages(set, uid)
	if err != nil {
		return fromErr(err)
	}
	changed, err := s.view.mb.Store(msgs, op, flags)
	for _, m := range changed {
		s.noteSent(m) // .SILENT: the client knows what it asked for
	}
	if !silent {
		for i, m := range msgs {
			s.writeFlagsFetch(pos[i]+1, m, uid)
		}
	}
	switch {
	case err != nil:
		return s.serverBug(err)
	case missing:
		return no("EXPUNGEISSUED", noLongerExist)
	}
	return ok("", "STORE completed")
}

// doCopy is COPY and UID COPY: every message or none (RFC 2180 4.4.1 for
// ones expunged meanwhile), COPYUID as UIDPLUS has it.
func doCopy(s *Session, tag string, a *args, uid bool) result {
	set, name := get(a, a.SeqSet), get(a, a.Mailbox)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	_, msgs, missing, err := s.messages(set, uid)
	if err != nil {
		return fromErr(err)
	}
	if missing {
		return no("EXPUNGEISSUED", noLongerExist)
	}
	dst, r := s.target(name)
	if r.failed() {
		return r
	}
	var from, to []uint32
	for _, m := range msgs {
		data, err := s.view.mb.Read(m)
		if err != nil {
			return s.serverBug(err)
		}
		c, err := dst.Append(data, m.Flags(), m.Date())
		if err != nil {
			return s.serverBug(err)
		}
		from, to = append(from, m.UID()), append(to, c.UID())
	}
	if len(msgs) == 0 {
		return ok("", "COPY completed")
	}
	return ok(fmt.Sprintf("COPYUID %d %s %s", dst.UIDValidity(), proto.FormatSet(from), proto.FormatSet(to)), "COPY completed")
}

func cmdExpunge(s *Session, tag string, a *args) result {
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	return s.expunge(nil)
}

// uidExpunge is UIDPLUS's UID EXPUNGE: only the \Deleted messages of the
// set.
func uidExpunge(s *Session, tag string, a *args, uid bool) result {
	set := get(a, a.SeqSet)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	return s.expunge(set)
}

// expunge removes the \Deleted messages (of uids, if not nil); the
// EXPUNGE responses come from the sync before the tagged OK.
func (s *Session) expunge(uids proto.SeqSet) result {
	if s.view.readOnly {
		return no("", "Mailbox is read-only")
	}
	var star uint32
	if n := len(s.view.uids); n > 0 {
		star = s.view.uids[n-1]
	}
	_, err := s.view.mb.Expunge(func(m *mail.Message) bool {
		return m.Flags().Has(mail.Deleted) && (uids == nil || uids.Contains(m.UID(), star))
	})
	if err != nil {
		return s.serverBug(err)
	}
	return ok("", "EXPUNGE completed")
}

// cmdClose expunges silently (unless read-only) and deselects: no EXPUNGE
// responses (RFC 3501 6.4.2).
func cmdClose(s *Session, tag string, a *args) result {
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	v := s.view
	s.deselect()
	if !v.readOnly {
		if _, err := v.mb.Expunge(func(m *mail.Message) bool { return m.Flags().Has(mail.Deleted) }); err != nil {
			return s.serverBug(err)
		}
	}
	return ok("", "CLOSE completed")
}
