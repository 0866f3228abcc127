package session

import (
	"bytes"
)

// cmdIdle starts IDLE (RFC 2177): "+ idling", then every change to the
// selected mailbox is sent as it happens (MailboxChanged), until DONE.
func cmdIdle(s *Session, tag string, a *args) result {
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	s.w.Raw("+ idling\r\n")
	s.idling, s.idleTag = true, tag
	if s.view != nil {
		s.sync(true)
	}
	return pending
}

// idleLine ends IDLE with the client's line; nil is a line too long.
func (s *Session) idleLine(line []byte) {
	tag := s.idleTag
	s.idling, s.idleTag = false, ""
	if !bytes.EqualFold(line, []byte("DONE")) {
		s.complete(tag, bad("Expected DONE"))
		return
	}
	s.complete(tag, ok("", "IDLE terminated"))
}

// KeepAlive writes "* OK Still here" if the session is in IDLE; the
// connection layer calls it from a timer (a wait event), so NAT boxes and
// clients see the connection alive. Outside IDLE it does nothing: RFC 3501
// lets the server speak only while a command is in progress.
func (s *Session) KeepAlive() {
	if s.idling && !s.closed {
		s.w.Status("*", "OK", "", "Still here")
		s.w.Flush()
	}
}

// Idling reports whether the session is in IDLE.
func (s *Session) Idling() bool { return s.idling }
