//go:build linux

package sys

import "golang.org/x/sys/unix"

// EpollCreate is epoll_create1(EPOLL_CLOEXEC).
func EpollCreate() (int, error) { return unix.EpollCreate1(unix.EPOLL_CLOEXEC) }

// EpollCtl is epoll_ctl(2). fd must fit in an int32, the width of the
// event's Fd field: a larger number is refused with EBADF rather than
// truncated into another descriptor's number.
func EpollCtl(epfd, op, fd int, ev *unix.EpollEvent) error {
	if !fitsInt32(fd) {
		return unix.EBADF
	}
	return unix.EpollCtl(epfd, op, fd, ev)
}

// EpollWait is epoll_wait(2) through the scheduler, for a wait that may
// block (msec is -1 or positive); x/sys/unix makes it epoll_pwait where
// the kernel has no epoll_wait.
func EpollWait(epfd int, events []unix.EpollEvent, msec int) (int, error) {
	return unix.EpollWait(epfd, events, msec)
}

// EpollWaitNow is epoll_wait(2) with a zero timeout, made with
// RawSyscall: it never blocks whatever the descriptors, so it need not go
// through the scheduler (see io_linux.go). len(events) must be at least 1.
func EpollWaitNow(epfd int, events []unix.EpollEvent) (int, error) {
	return result(epollWaitNow(epfd, events))
}

// Eventfd is eventfd(2) with a zero count, non-blocking and close-on-exec.
func Eventfd() (int, error) { return unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC) }
