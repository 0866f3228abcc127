//go:build unix

package rawio

import "golang.org/x/sys/unix"

// Nonblocking reports whether fd has O_NONBLOCK set.
func Nonblocking(fd int) bool {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_NONBLOCK != 0
}
