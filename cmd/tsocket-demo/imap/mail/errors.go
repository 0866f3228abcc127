package mail

import "errors"

// Errors of the mailbox model; test with errors.Is. Backends wrap them
// (with the path or name) so callers can tell what went wrong.
var (
	// ErrNoMailbox: the mailbox does not exist (SELECT answers NO, APPEND
	// and COPY answer NO [TRYCREATE]).
	ErrNoMailbox = errors.New("mail: no such mailbox")
	// ErrExists: CREATE of a mailbox that exists.
	ErrExists = errors.New("mail: mailbox exists")
	// ErrName: a mailbox or user name the store cannot hold.
	ErrName = errors.New("mail: invalid name")
	// ErrFlag: a flag that cannot be stored (\Recent, an unknown system
	// flag).
	ErrFlag = errors.New("mail: invalid flag")
)
