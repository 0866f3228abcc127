package proto

import (
	"errors"
	"fmt"
)

// Sentinels wrapped by every [*Error]; test with errors.Is.
var (
	// ErrSyntax: the command does not follow RFC 3501's grammar.
	ErrSyntax = errors.New("imap: syntax error")
	// ErrTooBig: a line, literal, argument count, nesting or command size
	// is over its [Limits].
	ErrTooBig = errors.New("imap: over a limit")
	// ErrState: the caller broke the Line/Literal protocol (a line given
	// while a literal was due, or a literal of the wrong size). It is a bug
	// in the connection layer, not in the client.
	ErrState = errors.New("imap: literal expected")
)

// Error is a command the server rejects. The session answers it as
//
//	Tag SP Status SP ["[" Code "]" SP] Text CRLF
//
// and then, when Fatal, says BYE and closes: the input cannot be put back
// in step (a non-synchronizing literal too large to read and drop). Every
// other error leaves the connection usable, as RFC 3501 wants of BAD.
type Error struct {
	Tag    string // the command's tag, or "*" when none could be read
	Status string // "BAD" or "NO"
	Code   string // a response code without its brackets ("TOOBIG"), or ""
	Text   string // human-readable, in the wording servers use
	Fatal  bool
	Err    error // ErrSyntax, ErrTooBig or ErrState
}

func (e *Error) Error() string { return "imap: " + e.Text }

// Unwrap returns the sentinel, for errors.Is.
func (e *Error) Unwrap() error { return e.Err }

// syntaxf is a BAD for a malformed command.
func syntaxf(format string, args ...any) *Error {
	return &Error{Status: "BAD", Text: fmt.Sprintf(format, args...), Err: ErrSyntax}
}

// tooBig is a BAD [TOOBIG] for a command over a limit.
func tooBig(format string, args ...any) *Error {
	return &Error{Status: "BAD", Code: "TOOBIG", Text: fmt.Sprintf(format, args...), Err: ErrTooBig}
}
