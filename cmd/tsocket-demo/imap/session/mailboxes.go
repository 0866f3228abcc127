package session

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

func cmdSelect(s *Session, tag string, a *args) result {
	return s.selectMailbox(a, false)
}

func cmdExamine(s *Session, tag string, a *args) result {
	return s.selectMailbox(a, true)
}

// selectMailbox is SELECT and EXAMINE (RFC 3501 6.3.1-2). A failed SELECT
// leaves no mailbox selected.
func (s *Session) selectMailbox(a *args, readOnly bool) result {
	name := get(a, a.Mailbox)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	mb, err := s.acct.Mailbox(name)
	if err != nil {
		s.deselect()
		return s.mailboxErr(err)
	}
	v := s.open(mb, readOnly)
	st := mb.Status()
	flags := strings.Join(append(append([]string{}, mail.SystemFlags...), mb.Keywords()...), " ")
	s.w.Raw("* FLAGS (" + flags + ")\r\n")
	if readOnly {
		s.w.Status("*", "OK", "PERMANENTFLAGS ()", "No permanent flags permitted")
	} else {
		s.w.Status("*", "OK", "PERMANENTFLAGS ("+flags+` \*)`, "Flags permitted")
	}
	s.w.Raw("* ")
	s.w.Number(uint64(len(v.uids)))
	s.w.Raw(" EXISTS\r\n* ")
	s.w.Number(uint64(len(v.recent)))
	s.w.Raw(" RECENT\r\n")
	if st.FirstUnseen > 0 {
		s.w.Raw("* OK [UNSEEN ")
		s.w.Number(uint64(st.FirstUnseen))
		s.w.Raw("] First unseen\r\n")
	}
	s.w.Raw("* OK [UIDVALIDITY ")
	s.w.Number(uint64(st.UIDValidity))
	s.w.Raw("] UIDs valid\r\n* OK [UIDNEXT ")
	s.w.Number(uint64(st.UIDNext))
	s.w.Raw("] Predicted next UID\r\n")
	if readOnly {
		return ok("READ-ONLY", "EXAMINE completed")
	}
	return ok("READ-WRITE", "SELECT completed")
}

// mailboxErr answers a mailbox that cannot be opened or made.
func (s *Session) mailboxErr(err error) result {
	switch {
	case errors.Is(err, mail.ErrNoMailbox):
		return no("NONEXISTENT", "Mailbox does not exist")
	case errors.Is(err, mail.ErrName):
		return no("CANNOT", "Invalid mailbox name")
	case errors.Is(err, mail.ErrExists):
		return no("ALREADYEXISTS", "Mailbox already exists")
	}
	return s.serverBug(err)
}

// target opens the mailbox APPEND or COPY writes to: a missing one is NO
// [TRYCREATE] (RFC 3501 6.3.11).
func (s *Session) target(name string) (*mail.Mailbox, result) {
	mb, err := s.acct.Mailbox(name)
	if errors.Is(err, mail.ErrNoMailbox) {
		return nil, no("TRYCREATE", "Mailbox does not exist")
	}
	if err != nil {
		return nil, s.mailboxErr(err)
	}
	return mb, ok("", "")
}

func cmdCreate(s *Session, tag string, a *args) result {
	name := get(a, a.Mailbox)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	if err := s.acct.Create(name); err != nil {
		return s.mailboxErr(err)
	}
	return ok("", "CREATE completed")
}

func cmdList(s *Session, tag string, a *args) result { return s.list("LIST", a) }

// cmdLsub is LIST by another name: every mailbox counts as subscribed.
func cmdLsub(s *Session, tag string, a *args) result { return s.list("LSUB", a) }

func (s *Session) list(kind string, a *args) result {
	ref, pat := get(a, a.Pattern), get(a, a.Pattern)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	if pat == "" {
		// RFC 3501: the hierarchy delimiter and the root name.
		s.w.Raw("* " + kind + ` (\Noselect) "` + mail.Delimiter + `" ""` + "\r\n")
		return ok("", kind+" completed")
	}
	entries, err := s.acct.List(ref, pat)
	if err != nil {
		return s.serverBug(err)
	}
	for _, e := range entries {
		s.w.Raw("* " + kind + " (")
		if e.NoSelect {
			s.w.Raw(`\Noselect`)
		}
		s.w.Raw(`) "` + mail.Delimiter + `" `)
		s.w.AString(e.Name)
		s.w.CRLF()
	}
	return ok("", kind+" completed")
}

var statusItems = map[string]func(mail.Status) uint32{
	"MESSAGES":    func(st mail.Status) uint32 { return st.Messages },
	"RECENT":      func(st mail.Status) uint32 { return st.Recent },
	"UIDNEXT":     func(st mail.Status) uint32 { return st.UIDNext },
	"UIDVALIDITY": func(st mail.Status) uint32 { return st.UIDValidity },
	"UNSEEN":      func(st mail.Status) uint32 { return st.Unseen },
}

func cmdStatus(s *Session, tag string, a *args) result {
	name, list := get(a, a.Mailbox), get(a, a.List)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	var items []string
	for !list.Done() {
		it, err := list.Atom()
		if err != nil {
			return fromErr(err)
		}
		it = strings.ToUpper(it)
		if statusItems[it] == nil {
			return bad("Invalid status item " + it)
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return bad("Empty status item list")
	}
	mb, err := s.acct.Mailbox(name)
	if err != nil {
		return s.mailboxErr(err)
	}
	st := mb.Status()
	s.w.Raw("* STATUS ")
	s.w.AString(mb.Name())
	s.w.Raw(" (")
	for i, it := range items {
		if i > 0 {
			s.w.Byte(' ')
		}
		s.w.Raw(it + " ")
		s.w.Number(uint64(statusItems[it](st)))
	}
	s.w.Raw(")\r\n")
	return ok("", "STATUS completed")
}

// cmdAppend is APPEND mailbox [flag-list] [date-time] literal. The
// literal's buffer becomes the stored message.
func cmdAppend(s *Session, tag string, a *args) result {
	name := get(a, a.Mailbox)
	var list []string
	if arg, ok := a.Peek(); ok && arg.Kind == proto.ListArg {
		list = get(a, a.FlagList)
	}
	date := s.cfg.now()
	if arg, ok := a.Peek(); ok && arg.Kind == proto.QuotedArg {
		a.Next()
		date = get(a, func() (time.Time, error) { return proto.ParseDateTime(arg.Str) })
	}
	if arg, ok := a.Peek(); a.err == nil && (!ok || arg.Kind != proto.LiteralArg) {
		return bad("APPEND needs the message as a literal")
	}
	msg := get(a, a.Next)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	flags, err := mail.NewFlags(list...)
	if err != nil {
		return bad("Invalid flag in APPEND")
	}
	if len(msg.Data) == 0 {
		return no("", "Cannot save an empty message")
	}
	mb, r := s.target(name)
	if r.failed() {
		return r
	}
	m, err := mb.Append(msg.Data, flags, date)
	if err != nil {
		return s.serverBug(err)
	}
	return ok(fmt.Sprintf("APPENDUID %d %d", mb.UIDValidity(), m.UID()), "APPEND completed")
}
