//go:build linux

// Package rawio makes the read and write system calls of non-blocking
// descriptors with RawSyscall, without telling the Go scheduler.
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
// Only descriptors with O_NONBLOCK set may be used here: a call that
// blocked would stall the P, and with it the garbage collector, for as
// long as it blocked. A call copies at most what the socket buffer holds,
// a few microseconds for typical buffers.
package rawio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read is read(2). len(b) must be at least 1.
func Read(fd int, b []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Write is write(2). len(b) must be at least 1.
func Write(fd int, b []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Send is send(2) (sendto without an address) with flags, typically
// MSG_NOSIGNAL. len(b) must be at least 1.
func Send(fd int, b []byte, flags int) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// Readv is readv(2). len(iov) must be at least 1.
func Readv(fd int, iov []unix.Iovec) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_READV, uintptr(fd), uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
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
	n, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), uintptr(flags))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// EpollWaitNow is epoll_wait(2) with a zero timeout: it never blocks
// whatever the descriptor. len(events) must be at least 1.
func EpollWaitNow(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
