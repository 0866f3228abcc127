//go:build unix && !linux

package rawio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Elsewhere the calls go through the scheduler as usual: only Linux is
// tuned, and some systems (darwin) do not support raw system calls.

// Read is read(2). len(b) must be at least 1.
func Read(fd int, b []byte) (int, error) { return unix.Read(fd, b) }

// Write is write(2). len(b) must be at least 1.
func Write(fd int, b []byte) (int, error) { return unix.Write(fd, b) }

// Send is send(2) (sendto without an address) with flags.
func Send(fd int, b []byte, flags int) (int, error) {
	return unix.SendmsgN(fd, b, nil, nil, flags)
}

// Readv is readv(2). len(iov) must be at least 1.
func Readv(fd int, iov []unix.Iovec) (int, error) {
	n, _, e := unix.Syscall(unix.SYS_READV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Sendmsg is sendmsg(2) of iov, without an address or control data, with
// flags. len(iov) must be at least 1.
func Sendmsg(fd int, iov []unix.Iovec, flags int) (int, error) {
	var msg unix.Msghdr
	msg.Iov = &iov[0]
	msg.SetIovlen(len(iov))
	n, _, e := unix.Syscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
