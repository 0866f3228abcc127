package sys

import "golang.org/x/sys/unix"

// SetsockoptInt is setsockopt(2) of an int option.
func SetsockoptInt(fd, level, opt, v int) error { return unix.SetsockoptInt(fd, level, opt, v) }

// SetLinger is setsockopt(2) of SO_LINGER.
func SetLinger(fd int, l *unix.Linger) error {
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, l)
}
