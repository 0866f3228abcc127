//go:build darwin

package sys

import "golang.org/x/sys/unix"

// PendingBytesCall is the system call PendingBytes makes, for naming its
// errors.
const PendingBytesCall = "getsockopt"

// PendingBytes returns how many bytes can be read from a socket without
// waiting: getsockopt SO_NREAD, which for a datagram socket is the size of
// the next datagram. x/sys/unix has no FIONREAD for darwin, and SO_NREAD
// answers the same question.
func PendingBytes(fd int) (int, error) {
	return unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NREAD)
}
