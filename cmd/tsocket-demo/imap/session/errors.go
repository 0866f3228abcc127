package session

import "errors"

// Errors of the session's own API; test with errors.Is.
var (
	// ErrNotIdle: Hibernate was called on a session that is not in IDLE.
	ErrNotIdle = errors.New("session: not idling")
	// ErrStaleState: a hibernated State no longer fits its mailbox (it
	// was deleted, or its UIDVALIDITY changed), or did not decode.
	ErrStaleState = errors.New("session: stale or malformed state")
)
