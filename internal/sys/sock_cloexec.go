//go:build freebsd || linux

package sys

import "golang.org/x/sys/unix"

// Linux and FreeBSD make a descriptor non-blocking and close-on-exec in
// the same call, so no fork can slip in between and leak it to a child.

// noSignal makes send, sendmsg and sendto on a socket whose peer has gone
// return EPIPE instead of raising SIGPIPE.
const noSignal = unix.MSG_NOSIGNAL

// Socket is socket(2) with SOCK_NONBLOCK|SOCK_CLOEXEC added to typ.
func Socket(domain, typ, proto int) (int, error) {
	return unix.Socket(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
}

// Socketpair is socketpair(2) with SOCK_NONBLOCK|SOCK_CLOEXEC added to typ.
func Socketpair(domain, typ, proto int) ([2]int, error) {
	return unix.Socketpair(domain, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
}

// AcceptCall is the system call Accept makes, for naming its errors.
const AcceptCall = "accept4"

// Accept is accept4(2) with SOCK_NONBLOCK|SOCK_CLOEXEC: the connection
// comes non-blocking and close-on-exec. Retry it on EINTR and
// ECONNABORTED (a connection reset while queued); EAGAIN means wait until
// fd is readable.
func Accept(fd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
}

// Dup2 makes newfd a close-on-exec duplicate of oldfd (dup3 with
// O_CLOEXEC), closing what newfd was first. oldfd and newfd must differ.
func Dup2(oldfd, newfd int) error { return unix.Dup3(oldfd, newfd, unix.O_CLOEXEC) }

// Pipe is pipe2(2) with O_NONBLOCK|O_CLOEXEC: p[0] is the read end, p[1]
// the write end.
func Pipe() ([2]int, error) {
	var p [2]int
	err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC)
	return p, err
}
