package session

import (
	"strings"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// handler runs one command. It writes its untagged responses and returns
// the tagged one (or pending, when the command goes on).
type handler func(s *Session, tag string, a *args) result

type command struct {
	states state
	run    handler
}

const (
	anyState = notAuthenticated | authenticated | selected
	loggedIn = authenticated | selected
)

// commands are RFC 3501's, by the states they are valid in (section 6).
var commands = map[string]command{
	"CAPABILITY":   {anyState, cmdCapability},
	"NOOP":         {anyState, cmdNoop},
	"LOGOUT":       {anyState, cmdLogout},
	"STARTTLS":     {notAuthenticated, cmdStartTLS},
	"LOGIN":        {notAuthenticated, cmdLogin},
	"AUTHENTICATE": {notAuthenticated, cmdAuthenticate},
	"SELECT":       {loggedIn, cmdSelect},
	"EXAMINE":      {loggedIn, cmdExamine},
	"CREATE":       {loggedIn, cmdCreate},
	"DELETE":       {loggedIn, cmdUnsupported},
	"RENAME":       {loggedIn, cmdUnsupported},
	"SUBSCRIBE":    {loggedIn, cmdSubscribe},
	"UNSUBSCRIBE":  {loggedIn, cmdUnsubscribe},
	"LIST":         {loggedIn, cmdList},
	"LSUB":         {loggedIn, cmdLsub},
	"STATUS":       {loggedIn, cmdStatus},
	"APPEND":       {loggedIn, cmdAppend},
	"IDLE":         {loggedIn, cmdIdle},
	"CHECK":        {selected, cmdNoop},
	"CLOSE":        {selected, cmdClose},
	"EXPUNGE":      {selected, cmdExpunge},
	"SEARCH":       {selected, cmdSearch},
	"FETCH":        {selected, cmdFetch},
	"STORE":        {selected, cmdStore},
	"COPY":         {selected, cmdCopy},
	"UID":          {selected, cmdUID},
}

// uidCommands are the commands UID prefixes; the flag says "by UID".
var uidCommands = map[string]func(s *Session, tag string, a *args, uid bool) result{
	"FETCH":   fetch,
	"STORE":   store,
	"SEARCH":  search,
	"COPY":    doCopy,
	"EXPUNGE": uidExpunge,
}

func (s *Session) exec(cmd *proto.Command) {
	c, found := commands[cmd.Name]
	var r result
	switch {
	case !found:
		r = bad("Unknown command " + cmd.Name)
	case c.states&s.state == 0:
		r = s.wrongState(c.states)
	default:
		r = c.run(s, cmd.Tag, &args{Cursor: cmd.Cursor()})
	}
	if !r.isPending() {
		s.complete(cmd.Tag, r)
	}
}

func (s *Session) wrongState(valid state) result {
	switch {
	case valid == notAuthenticated:
		return bad("Already logged in")
	case s.state == notAuthenticated:
		return bad("Log in first")
	}
	return bad("No mailbox selected")
}

// capabilities lists what this server implements, and no more.
func (s *Session) capabilities() string {
	caps := []string{"IMAP4rev1", "LITERAL+", "SASL-IR", "IDLE", "UIDPLUS"}
	if s.state == notAuthenticated {
		if s.cfg.TLS && !s.tls {
			caps = append(caps, "STARTTLS")
		}
		caps = append(caps, "AUTH=PLAIN")
	}
	return strings.Join(caps, " ")
}

func cmdCapability(s *Session, tag string, a *args) result {
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	s.w.Raw("* CAPABILITY " + s.capabilities() + "\r\n")
	return ok("", "CAPABILITY completed")
}

// cmdNoop is NOOP and CHECK: CHECK has no housekeeping to do here, the
// backends write through.
func cmdNoop(s *Session, tag string, a *args) result {
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	return ok("", "NOOP completed")
}

func cmdLogout(s *Session, tag string, a *args) result {
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	s.deselect()
	s.w.Status("*", "BYE", "", "gotevent IMAP4rev1 server logging out")
	s.w.Status(tag, "OK", "", "LOGOUT completed")
	s.Close()
	return pending
}

func cmdUnsupported(s *Session, tag string, a *args) result {
	return no("CANNOT", "This server does not delete or rename mailboxes")
}

// cmdSubscribe accepts: every mailbox is subscribed (LSUB is LIST).
func cmdSubscribe(s *Session, tag string, a *args) result {
	get(a, a.Mailbox)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	return ok("", "SUBSCRIBE completed")
}

func cmdUnsubscribe(s *Session, tag string, a *args) result {
	return no("CANNOT", "Every mailbox is subscribed on this server")
}

func cmdUID(s *Session, tag string, a *args) result {
	name, err := a.Atom()
	if err != nil {
		return bad("UID needs a command")
	}
	run, found := uidCommands[strings.ToUpper(name)]
	if !found {
		return bad("Unknown UID command " + name)
	}
	return run(s, tag, a, true)
}
