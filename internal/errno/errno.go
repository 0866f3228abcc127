// Package errno holds the sentinel error type that the public packages
// share: an error with a message of its own that errors.Is also matches
// against one errno, so that code written against errno values (as
// Samba's is) keeps working with the package's named sentinels.
//
// It lies below tevent, tqueue and tsocket and imports none of them.
package errno

import "syscall"

// New returns a sentinel error with message msg that errors.Is matches
// against itself and against code. Each call returns a distinct error, so
// two sentinels with the same errno stay apart under errors.Is.
func New(msg string, code syscall.Errno) error {
	return &sentinel{msg: msg, code: code}
}

// sentinel is what New returns. It has no Unwrap: the errno is matched by
// Is, not exposed as a cause, so the message stays the package's own.
type sentinel struct {
	msg  string
	code syscall.Errno
}

func (e *sentinel) Error() string { return e.msg }

func (e *sentinel) Is(target error) bool { return target == e.code }
