package session

import (
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/msg"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// fetchJob is a FETCH in progress. It writes one message at a time and,
// once Config.OutputChunk bytes are queued, waits for the connection to
// drain them (WaitDrain, then Drained), so FETCH 1:* BODY[] of a large
// mailbox never holds more than a chunk of it in the output queue.
type fetchJob struct {
	tag     string
	items   []proto.FetchItem
	pos     []int // view positions still to write
	missing bool
	err     error
}

func cmdFetch(s *Session, tag string, a *args) result {
	return fetch(s, tag, a, false)
}

// fetch is FETCH and UID FETCH (RFC 3501 6.4.5, 6.4.8).
func fetch(s *Session, tag string, a *args, uid bool) result {
	s.noExpunge = !uid
	set := get(a, a.SeqSet)
	items := get(a, func() ([]proto.FetchItem, error) { return proto.ParseFetch(a.Cursor) })
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	if uid && !hasItem(items, "UID") {
		// UID FETCH answers with the UID whether asked or not.
		items = append([]proto.FetchItem{{Name: "UID"}}, items...)
	}
	pos, err := s.view.resolve(set, uid)
	if err != nil {
		return fromErr(err)
	}
	s.job = &fetchJob{tag: tag, items: items, pos: pos}
	s.runJob()
	return pending
}

func hasItem(items []proto.FetchItem, name string) bool {
	for _, it := range items {
		if it.Name == name {
			return true
		}
	}
	return false
}

// runJob writes messages until the job is done or a chunk is queued.
func (s *Session) runJob() {
	j := s.job
	for len(j.pos) > 0 {
		if s.w.Len() >= s.cfg.chunk() {
			return
		}
		p := j.pos[0]
		j.pos = j.pos[1:]
		s.fetchOne(j, p)
	}
	s.job = nil
	switch {
	case j.err != nil:
		s.complete(j.tag, s.serverBug(j.err))
	case j.missing:
		s.complete(j.tag, no("EXPUNGEISSUED", noLongerExist))
	default:
		s.complete(j.tag, ok("", "FETCH completed"))
	}
}

// needsBody reports whether an item reads the message itself, and
// whether it sets \Seen (BODY[...] without PEEK, RFC822, RFC822.TEXT).
func needsBody(it proto.FetchItem) (read, seen bool) {
	switch it.Name {
	case "ENVELOPE", "BODY", "BODYSTRUCTURE", "RFC822.HEADER":
		return true, false
	case "RFC822", "RFC822.TEXT":
		return true, true
	case proto.BodySection:
		return true, !it.Peek
	}
	return false, false
}

func (s *Session) fetchOne(j *fetchJob, p int) {
	v := s.view
	m := v.mb.ByUID(v.uids[p])
	if m == nil {
		j.missing = true
		return
	}
	var read, seen bool
	for _, it := range j.items {
		r, sn := needsBody(it)
		read, seen = read || r, seen || sn
	}
	var raw []byte
	var part *msg.Part
	if read {
		var err error
		if raw, err = v.mb.Read(m); err != nil {
			j.err = err
			return
		}
		part = msg.Parse(raw)
	}
	addFlags := false
	if seen && !v.readOnly && !m.Flags().Has(mail.Seen) {
		if _, err := v.mb.Store([]*mail.Message{m}, mail.AddFlags, mail.Flags{mail.Seen}); err != nil {
			j.err = err
			return
		}
		// RFC 3501: the client hears of the \Seen it caused.
		addFlags = !hasItem(j.items, "FLAGS")
	}
	s.w.Raw("* ")
	s.w.Number(uint64(p + 1))
	s.w.Raw(" FETCH (")
	for i, it := range j.items {
		if i > 0 {
			s.w.Byte(' ')
		}
		s.writeItem(it, m, raw, part)
	}
	if addFlags {
		s.w.Byte(' ')
		s.writeFlags(m)
	}
	s.w.Raw(")\r\n")
}

func (s *Session) writeItem(it proto.FetchItem, m *mail.Message, raw []byte, part *msg.Part) {
	w := s.w
	switch it.Name {
	case "FLAGS":
		s.writeFlags(m)
		return
	case "UID":
		w.Raw("UID ")
		w.Number(uint64(m.UID()))
		return
	case "INTERNALDATE":
		w.Raw(`INTERNALDATE "` + m.Date().Format(proto.DateTimeFormat) + `"`)
		return
	case "RFC822.SIZE":
		w.Raw("RFC822.SIZE ")
		w.Number(uint64(m.Size()))
		return
	case "ENVELOPE":
		w.Raw("ENVELOPE ")
		writeEnvelope(w, msg.ParseEnvelope(part.Header))
		return
	case "BODY", "BODYSTRUCTURE":
		w.Raw(it.Name + " ")
		writeBody(w, part, it.Name == "BODYSTRUCTURE")
		return
	}
	var data []byte
	found := true
	switch it.Name {
	case "RFC822":
		data = raw
	case "RFC822.HEADER":
		data = part.HeaderBytes
	case "RFC822.TEXT":
		data = part.Body
	default:
		data, found = section(part, raw, it.Section)
	}
	w.Raw(it.Label() + " ")
	if !found {
		w.Raw("NIL")
		return
	}
	w.Literal(partial(data, it))
}

// section returns the bytes BODY[section] names (RFC 3501 6.4.5): part
// numbers pick a MIME part; HEADER, TEXT and HEADER.FIELDS after part
// numbers apply to a message/rfc822 part's message; MIME is a part's own
// header.
func section(root *msg.Part, raw []byte, sec *proto.Section) ([]byte, bool) {
	p := root
	if len(sec.Part) > 0 {
		if p = root.Find(sec.Part); p == nil {
			return nil, false
		}
	}
	if sec.Spec == "" {
		if len(sec.Part) == 0 {
			return raw, true
		}
		return p.Body, true
	}
	if sec.Spec == "MIME" {
		return p.HeaderBytes, true
	}
	if len(sec.Part) > 0 {
		if p.Message == nil {
			return nil, false
		}
		p = p.Message
	}
	switch sec.Spec {
	case "HEADER":
		return p.HeaderBytes, true
	case "TEXT":
		return p.Body, true
	}
	return p.Header.Select(sec.Fields, sec.Spec == "HEADER.FIELDS.NOT"), true
}

// partial cuts <offset.count>; an offset past the end gives "".
func partial(b []byte, it proto.FetchItem) []byte {
	if !it.Partial {
		return b
	}
	off := min(int64(it.Offset), int64(len(b)))
	end := min(off+int64(it.Count), int64(len(b)))
	return b[off:end]
}
