//go:build unix

package sys

import "golang.org/x/sys/unix"

// Interrupted reports whether a call failed only because a signal arrived
// (EINTR) and should simply be made again.
func Interrupted(err error) bool { return err == unix.EINTR }

// WouldBlock reports whether a call on a non-blocking descriptor found it
// not ready (EAGAIN, or EWOULDBLOCK where that is a different number): wait
// for readiness, then try again.
func WouldBlock(err error) bool { return err == unix.EAGAIN || err == unix.EWOULDBLOCK }
