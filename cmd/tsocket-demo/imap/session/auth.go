package session

import (
	"bytes"
	"encoding/base64"
	"strings"
)

func cmdStartTLS(s *Session, tag string, a *args) result {
	switch {
	case !s.cfg.TLS:
		return bad("STARTTLS is not available")
	case s.tls:
		return bad("TLS is already active")
	}
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	// Nothing the client sent before the handshake may count after it.
	s.p.Reset()
	s.startTLS = true
	return ok("", "Begin TLS negotiation now")
}

func cmdLogin(s *Session, tag string, a *args) result {
	user, pass := get(a, a.AString), get(a, a.AString)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	return s.login(user, pass)
}

// cmdAuthenticate runs SASL PLAIN (RFC 4616), with the initial response
// on the command line (SASL-IR, RFC 4959) or after a "+ " continuation.
func cmdAuthenticate(s *Session, tag string, a *args) result {
	mech, err := a.Atom()
	if err != nil {
		return fromErr(err)
	}
	if !strings.EqualFold(mech, "PLAIN") {
		return no("", "Unsupported authentication mechanism")
	}
	if a.Done() {
		s.w.Raw("+ \r\n")
		s.authTag = tag
		return pending
	}
	ir := get(a, a.Atom)
	if err := a.end(); err != nil {
		return fromErr(err)
	}
	if ir == "=" {
		ir = ""
	}
	return s.authPlain(ir)
}

// authLine takes the client's response to the "+ " continuation; nil
// stands for a line too long to read.
func (s *Session) authLine(line []byte) {
	tag := s.authTag
	s.authTag = ""
	switch {
	case line == nil:
		s.complete(tag, result{"BAD", "TOOBIG", "Authentication response too long"})
	case string(line) == "*":
		// RFC 3501 6.2.2: a cancelled exchange is rejected with BAD.
		s.complete(tag, bad("Authentication cancelled"))
	default:
		s.complete(tag, s.authPlain(string(line)))
	}
}

func (s *Session) authPlain(b64 string) result {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return bad("Invalid base64 data")
	}
	parts := bytes.Split(data, []byte{0})
	if len(parts) != 3 {
		return bad("Invalid PLAIN response")
	}
	authz, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && authz != user {
		return no("AUTHORIZATIONFAILED", "Cannot log in as another user")
	}
	return s.login(user, pass)
}

func (s *Session) login(user, pass string) result {
	if !s.cfg.Users.Check(user, pass) {
		return no("AUTHENTICATIONFAILED", "Authentication failed")
	}
	acct, err := s.cfg.Store.Account(user)
	if err != nil {
		return s.serverBug(err)
	}
	s.user, s.acct, s.state = user, acct, authenticated
	return ok("CAPABILITY "+s.capabilities(), "Logged in")
}
