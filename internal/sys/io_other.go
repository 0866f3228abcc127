//go:build unix && !linux

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Elsewhere the calls are x/sys/unix's own, through the scheduler: only
// Linux is tuned (see io_linux.go), and darwin wants its system calls made
// through libSystem, which x/sys/unix's functions do and raw system call
// numbers would not. Readv and Sendmsg hand x/sys/unix the [][]byte it
// takes, so there they allocate once per call, and are for sockets only.

// Read is read(2). len(b) must be at least 1.
func Read(fd int, b []byte) (int, error) { return unix.Read(fd, b) }

// Write is write(2). len(b) must be at least 1.
func Write(fd int, b []byte) (int, error) { return unix.Write(fd, b) }

// Send is sendmsg(2) of b without an address, with MSG_NOSIGNAL where the
// system has it. len(b) must be at least 1.
func Send(fd int, b []byte) (int, error) { return SendBlocking(fd, b) }

// Readv reads a socket into iov: recvmsg(2) without flags here, which on
// a socket is readv(2) (x/sys/unix has no Readv on FreeBSD). len(iov) must
// be at least 1.
func Readv(fd int, iov []unix.Iovec) (int, error) {
	n, _, _, _, err := unix.RecvmsgBuffers(fd, buffers(iov), nil, 0)
	return n, err
}

// Sendmsg is sendmsg(2) of iov, without an address or control data, with
// MSG_NOSIGNAL where the system has it. len(iov) must be at least 1.
func Sendmsg(fd int, iov []unix.Iovec) (int, error) {
	return unix.SendmsgBuffers(fd, buffers(iov), nil, nil, noSignal)
}

// buffers returns the byte slices iov describes.
func buffers(iov []unix.Iovec) [][]byte {
	bufs := make([][]byte, len(iov))
	for i, v := range iov {
		bufs[i] = unsafe.Slice(v.Base, v.Len)
	}
	return bufs
}
