//go:build linux

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The I/O calls of non-blocking descriptors are made with RawSyscall,
// without telling the Go scheduler.
//
// syscall.Syscall brackets every call with entersyscall and exitsyscall so
// that the runtime can hand the thread's P to another thread if the call
// blocks. A call on a non-blocking descriptor never blocks, but the
// runtime's monitor cannot know that: on a loop that makes one call after
// another it finds the P in a system call, takes it away, wakes another
// thread to hold it, and the call then has to win it back. On one core
// that is a context switch or two, many thousands of times a second; it
// cost the tsocket servers about 15% of their CPU in ping-pong and half
// their throughput in bulk transfers (docs/performance.md). gnet and the
// runtime's own netpoller avoid it the same way.
//
// Only descriptors with O_NONBLOCK set may be used with Read, Write, Readv,
// Send and Sendmsg: a call that blocked would stall the P, and with it the
// garbage collector, for as long as it blocked. A call copies at most what
// the socket buffer holds, a few microseconds for typical buffers. The
// ...Blocking variants serve descriptors that may block.
//
// On linux/386 send and sendmsg are their own system calls only since
// Linux 4.3 (before, they went through socketcall), so that is the oldest
// kernel this package runs on there.

// Read is read(2) of a non-blocking descriptor. len(b) must be at least 1.
func Read(fd int, b []byte) (int, error) {
	return result(unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b))))
}

// Write is write(2) of a non-blocking descriptor. len(b) must be at least 1.
func Write(fd int, b []byte) (int, error) {
	return result(unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b))))
}

// Send is send(2) (sendto without an address) on a non-blocking socket,
// with MSG_NOSIGNAL. len(b) must be at least 1.
func Send(fd int, b []byte) (int, error) {
	return result(unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), noSignal, 0, 0))
}

// Readv is readv(2) of a non-blocking descriptor. len(iov) must be at
// least 1.
func Readv(fd int, iov []unix.Iovec) (int, error) {
	return result(unix.RawSyscall(unix.SYS_READV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov))))
}

// Sendmsg is sendmsg(2) of iov on a non-blocking socket, without an
// address or control data, with MSG_NOSIGNAL. len(iov) must be at least 1.
func Sendmsg(fd int, iov []unix.Iovec) (int, error) {
	var msg unix.Msghdr
	msg.Iov = &iov[0]
	msg.SetIovlen(len(iov))
	return result(unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), noSignal))
}

// result turns what a raw system call returned into a count and the bare
// errno, so that each call above is one line.
func result(n, _ uintptr, e unix.Errno) (int, error) {
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
