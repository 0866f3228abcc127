package session

import (
	"bytes"
	"errors"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// state is RFC 3501 section 3's connection state.
type state uint8

const (
	notAuthenticated state = 1 << iota
	authenticated
	selected
	loggedOut
)

// Session is one client's IMAP4rev1 conversation, without the transport:
// the connection layer gives it lines and literals and does what each
// returned [Next] says; the session writes every response to its
// [proto.Out].
//
// Ownership: a Session, like the [mail.Store] it uses, belongs to the
// server's loop goroutine; every method is called from there. Watchers
// make it write to Out from inside another session's command (an APPEND
// that a session in IDLE must hear of), which is why Out.Write must only
// queue and never block or call back.
type Session struct {
	cfg *Config
	w   *proto.Writer
	p   *proto.Parser

	state state
	tls   bool
	user  string
	acct  *mail.Account
	view  *view // the selected mailbox, nil when none

	lit       *proto.Literal // a literal the connection must read next
	authTag   string         // AUTHENTICATE waiting for the client's response
	idleTag   string         // IDLE in progress
	idling    bool
	job       *fetchJob // a FETCH waiting for output to drain
	noExpunge bool      // the command in progress may not cause EXPUNGE responses
	startTLS  bool
	closed    bool
}

// New returns a session in the not-authenticated state writing to out.
// Call Greet first.
func New(cfg *Config, out proto.Out) *Session {
	return &Session{cfg: cfg, w: proto.NewWriter(out), p: proto.NewParser(cfg.Limits), state: notAuthenticated}
}

// Greet writes the server greeting.
func (s *Session) Greet() Next {
	s.w.Status("*", "OK", "CAPABILITY "+s.capabilities(), "gotevent IMAP4rev1 server ready")
	return s.finish()
}

// Line gives the session one line the client sent, CRLF included. The
// session does not keep line.
func (s *Session) Line(line []byte) Next {
	switch {
	case s.closed:
	case s.startTLS:
		s.bye("Expected TLS negotiation")
	case s.job != nil || s.lit != nil:
		s.bye("Internal error: input out of order")
	case s.idling:
		s.idleLine(trimEOL(line))
	case s.authTag != "":
		s.authLine(trimEOL(line))
	default:
		cmd, lit, err := s.p.Line(line)
		s.parsed(cmd, lit, err)
	}
	return s.finish()
}

// Literal gives the session the literal the last Next asked for. The
// session keeps data (APPEND stores it as the message).
func (s *Session) Literal(data []byte) Next {
	if s.closed {
		return s.finish()
	}
	if s.lit == nil {
		s.bye("Internal error: unexpected literal")
		return s.finish()
	}
	s.lit = nil
	if err := s.p.Literal(data); err != nil {
		s.reject(err)
	}
	return s.finish()
}

// LineTooLong tells the session the connection dropped a line over
// Limits.MaxLine. The command it belonged to fails with BAD [TOOBIG] and
// the session goes on.
func (s *Session) LineTooLong() Next {
	switch {
	case s.closed:
	case s.idling:
		s.idleLine(nil)
	case s.authTag != "":
		s.authLine(nil)
	default:
		s.reject(s.p.LineTooLong())
	}
	return s.finish()
}

// Drained resumes a command that returned WaitDrain.
func (s *Session) Drained() Next {
	if s.job != nil && !s.closed {
		s.runJob()
	}
	return s.finish()
}

// TLSStarted tells the session the handshake after STARTTLS succeeded.
func (s *Session) TLSStarted() Next {
	s.startTLS = false
	s.tls = true
	return s.finish()
}

// Bye ends the session from the server's side (shutdown, idle timeout):
// it writes "* BYE text" and returns Close.
func (s *Session) Bye(text string) Next {
	if !s.closed {
		s.bye(text)
	}
	return s.finish()
}

// Close tells the session its connection is gone; it leaves its mailbox.
// It may be called at any time, more than once.
func (s *Session) Close() {
	s.deselect()
	s.closed = true
	s.state = loggedOut
}

func (s *Session) bye(text string) {
	s.w.Status("*", "BYE", "", text)
	s.Close()
}

// finish flushes the output and says what the connection does next.
func (s *Session) finish() Next {
	s.w.Flush()
	switch {
	case s.closed:
		return Next{Op: Close}
	case s.startTLS:
		return Next{Op: StartTLS}
	case s.job != nil:
		return Next{Op: WaitDrain}
	case s.lit != nil:
		return Next{Op: ReadLiteral, Size: s.lit.Size, Discard: s.lit.Discard}
	}
	return Next{Op: ReadLine, Idle: s.idling}
}

func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	return bytes.TrimSuffix(line, []byte{'\r'})
}

// parsed acts on what the parser made of a line.
func (s *Session) parsed(cmd *proto.Command, lit *proto.Literal, err error) {
	if err != nil {
		s.reject(err)
	}
	if s.closed {
		return
	}
	if lit != nil {
		s.lit = lit
		if lit.Sync && !lit.Discard {
			s.w.Raw("+ Ready for literal data\r\n")
		}
	}
	if cmd != nil {
		s.exec(cmd)
	}
}

// reject answers a parse error; a fatal one ends the session.
func (s *Session) reject(err error) {
	var e *proto.Error
	if !errors.As(err, &e) {
		s.bye("Internal error")
		return
	}
	s.w.Status(e.Tag, e.Status, e.Code, e.Text)
	if e.Fatal {
		s.bye("Cannot resynchronize with the client's input")
	}
}

// result is a command's tagged response. A zero status means the command
// is not over yet (IDLE, AUTHENTICATE, a FETCH waiting for output).
type result struct{ status, code, text string }

var pending = result{}

func ok(code, text string) result { return result{"OK", code, text} }
func no(code, text string) result { return result{"NO", code, text} }
func bad(text string) result      { return result{"BAD", "", text} }
func (r result) isPending() bool  { return r.status == "" }
func (r result) failed() bool     { return r.status != "OK" }
func (s *Session) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// fromErr turns a decoding error into its BAD (or NO) response.
func fromErr(err error) result {
	var e *proto.Error
	if errors.As(err, &e) {
		return result{e.Status, e.Code, e.Text}
	}
	return result{"BAD", "", err.Error()}
}

// serverBug answers an error of the storage.
func (s *Session) serverBug(err error) result {
	s.logf("imap session %s: %v", s.user, err)
	return no("SERVERBUG", "Internal error occurred; see the server log")
}

// complete ends a command: updates the client may hear at this point,
// then the tagged response.
func (s *Session) complete(tag string, r result) {
	if s.view != nil {
		s.sync(!s.noExpunge)
	}
	s.noExpunge = false
	s.w.Status(tag, r.status, r.code, r.text)
}
