package session

import (
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// Op is what the connection layer does next for a session.
type Op uint8

const (
	// ReadLine: read the next CRLF-terminated line and call
	// [Session.Line] (or [Session.LineTooLong] when it is over
	// Limits.MaxLine).
	ReadLine Op = iota
	// ReadLiteral: read exactly Next.Size bytes into a buffer of their own
	// and call [Session.Literal]. For a synchronizing literal the session
	// has already written the continuation request. The buffer is handed
	// over: APPEND stores it without a copy.
	ReadLiteral
	// WaitDrain: a command produced a chunk of output and waits; call
	// [Session.Drained] once the output queue has drained (tsocket's
	// WriterDrainSend). Read nothing meanwhile.
	WaitDrain
	// StartTLS: the session has written "OK Begin TLS negotiation".
	// Discard every byte buffered past that command's line (a plaintext
	// command injection, CVE-2011-0411, otherwise), run the TLS handshake
	// (tsocket.TLSServerSend) and call [Session.TLSStarted]; on failure,
	// call [Session.Close] and close.
	StartTLS
	// Close: write what is queued, then close the connection (tsocket's
	// WriterCloseSend). The session is finished.
	Close
)

// Next tells the connection layer what to do after a call into the
// session.
type Next struct {
	Op Op
	// Size is the literal's length, for ReadLiteral.
	Size int64
	// Discard, for ReadLiteral: the command has failed already; read the
	// bytes (into a reusable buffer) and pass them to Literal anyway.
	Discard bool
	// Idle is true while the session is in IDLE (RFC 2177): arm the
	// keep-alive timer ([Session.KeepAlive]) and, if configured, the
	// hibernation timer ([Session.Hibernate]). It turns false again on the
	// Next that follows DONE.
	Idle bool
}

// Users checks logins; [*mail.Users] is one.
type Users interface {
	Check(user, password string) bool
}

// Config is what every session of a server shares. It is read-only once
// the first session exists; Store's rules apply to everything reached
// through it (one goroutine).
type Config struct {
	Store *mail.Store
	Users Users
	// TLS says the connection layer can run STARTTLS (it has a
	// certificate); the session then advertises it.
	TLS bool
	// Limits bound each command; see [proto.Limits]. The connection's line
	// reader should use Limits.MaxLine too.
	Limits proto.Limits
	// Now gives APPEND's default INTERNALDATE; nil means time.Now.
	Now func() time.Time
	// OutputChunk is how many bytes a long FETCH may queue before it waits
	// for the output to drain (WaitDrain); 0 means 256 KiB.
	OutputChunk int
	// Logf, if set, hears of internal errors (a Maildir file that cannot
	// be read); clients only get "NO [SERVERBUG]".
	Logf func(format string, args ...any)
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Config) chunk() int {
	if c.OutputChunk > 0 {
		return c.OutputChunk
	}
	return 256 << 10
}
