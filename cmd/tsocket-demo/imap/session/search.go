package session

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/msg"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// search is SEARCH and UID SEARCH (RFC 3501 6.4.4). Strings match as
// case-insensitive substrings, header values after decoding encoded
// words; dates compare calendar days, disregarding time and zone.
func search(s *Session, tag string, a *args, uid bool) result {
	s.noExpunge = !uid
	charset, key, err := proto.ParseSearch(a.Cursor)
	if err != nil {
		return fromErr(err)
	}
	switch strings.ToUpper(charset) {
	case "", "US-ASCII", "UTF-8":
	default:
		return no("BADCHARSET (US-ASCII UTF-8)", "Unsupported charset")
	}
	v := s.view
	s.w.Raw("* SEARCH")
	for i, u := range v.uids {
		m := v.mb.ByUID(u)
		if m == nil {
			continue // expunged, not yet announced: matches nothing
		}
		x := &matcher{v: v, seq: uint32(i + 1), m: m}
		if x.match(key) {
			s.w.Byte(' ')
			if uid {
				s.w.Number(uint64(u))
			} else {
				s.w.Number(uint64(i + 1))
			}
		}
		if x.err != nil {
			s.w.CRLF()
			return s.serverBug(x.err)
		}
	}
	s.w.CRLF()
	return ok("", "SEARCH completed")
}

// matcher evaluates a query against one message, reading its bytes only
// if a key needs them.
type matcher struct {
	v    *view
	seq  uint32
	m    *mail.Message
	part *msg.Part
	raw  []byte
	err  error
}

func (x *matcher) load() bool {
	if x.part == nil && x.err == nil {
		x.raw, x.err = x.v.mb.Read(x.m)
		x.part = msg.Parse(x.raw)
	}
	return x.err == nil
}

func (x *matcher) match(k proto.SearchKey) bool {
	f := x.m.Flags()
	switch k.Op {
	case "AND":
		for _, sub := range k.Sub {
			if !x.match(sub) {
				return false
			}
		}
		return true
	case "OR":
		return x.match(k.Sub[0]) || x.match(k.Sub[1])
	case "NOT":
		return !x.match(k.Sub[0])
	case "ALL":
		return true
	case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN":
		return f.Has(`\` + k.Op)
	case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN":
		return !f.Has(`\` + k.Op[2:])
	case "KEYWORD":
		return f.Has(k.Value)
	case "UNKEYWORD":
		return !f.Has(k.Value)
	case "RECENT":
		return x.v.recent[x.m.UID()]
	case "OLD":
		return !x.v.recent[x.m.UID()]
	case "NEW":
		return x.v.recent[x.m.UID()] && !f.Has(mail.Seen)
	case "LARGER":
		return x.m.Size() > int64(k.Size)
	case "SMALLER":
		return x.m.Size() < int64(k.Size)
	case "UID":
		return k.Set.Contains(x.m.UID(), x.v.uids[len(x.v.uids)-1])
	case "SEQ":
		return k.Set.Contains(x.seq, uint32(len(x.v.uids)))
	case "BEFORE", "ON", "SINCE":
		return compareDay(x.m.Date(), k.Date, k.Op)
	case "SENTBEFORE", "SENTON", "SENTSINCE":
		if !x.load() {
			return false
		}
		v, _ := x.part.Header.Get("Date")
		d, err := netmail.ParseDate(v)
		return err == nil && compareDay(d, k.Date, k.Op[4:])
	case "BODY":
		return x.load() && containsFold(x.part.Body, k.Value)
	case "TEXT":
		return x.load() && containsFold(x.raw, k.Value)
	case "HEADER":
		return x.load() && x.header(k.Field, k.Value)
	case "BCC", "CC", "FROM", "SUBJECT", "TO":
		return x.load() && x.header(k.Op, k.Value)
	}
	return false
}

// header matches every field of that name; an empty value matches the
// field's presence.
func (x *matcher) header(name, value string) bool {
	for _, f := range x.part.Header {
		if !strings.EqualFold(f.Name, name) {
			continue
		}
		if value == "" {
			return true
		}
		v := f.Value()
		if d, err := wordDecoder.DecodeHeader(v); err == nil {
			v = d
		}
		if strings.Contains(strings.ToLower(v), strings.ToLower(value)) {
			return true
		}
	}
	return false
}

var wordDecoder = new(mime.WordDecoder)

func containsFold(hay []byte, needle string) bool {
	return bytes.Contains(bytes.ToLower(hay), bytes.ToLower([]byte(needle)))
}

// compareDay compares t's calendar day (in its own zone) with day.
func compareDay(t, day time.Time, op string) bool {
	y, m, d := t.Date()
	c := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Compare(day)
	switch op {
	case "BEFORE":
		return c < 0
	case "ON":
		return c == 0
	}
	return c >= 0
}
