//go:build darwin

package sys

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// darwin has neither SOCK_NONBLOCK|SOCK_CLOEXEC, accept4 nor pipe2: a
// descriptor is made first and changed after. syscall.ForkLock is held
// for reading between the two, as Go's net and os packages do, so that
// os/exec (which takes it for writing around fork) never starts a child
// that inherits a descriptor not yet marked close-on-exec.
//
// Nor has send MSG_NOSIGNAL: every socket made here gets SO_NOSIGPIPE
// instead, so a write to a peer that has gone away returns EPIPE.

// noSignal is 0: SO_NOSIGPIPE on the socket does its work.
const noSignal = 0

// Socket is socket(2), then made close-on-exec, non-blocking and
// SO_NOSIGPIPE.
func Socket(domain, typ, proto int) (int, error) {
	fd, err := cloexec(func() (int, error) { return unix.Socket(domain, typ, proto) })
	if err != nil {
		return -1, err
	}
	return finish(fd, setup)
}

// Socketpair is socketpair(2), then both ends made close-on-exec,
// non-blocking and SO_NOSIGPIPE.
func Socketpair(domain, typ, proto int) ([2]int, error) {
	p, err := cloexecPair(func() ([2]int, error) { return unix.Socketpair(domain, typ, proto) })
	if err != nil {
		return p, err
	}
	return finishPair(p, setup)
}

// AcceptCall is the system call Accept makes, for naming its errors.
const AcceptCall = "accept"

// Accept is accept(2), then the connection made close-on-exec,
// non-blocking and SO_NOSIGPIPE. fd must be non-blocking: the fork lock is
// held across the accept, which would hold up every os/exec for as long
// as a blocking accept waited. Retry it on EINTR and ECONNABORTED; EAGAIN
// means wait until fd is readable.
func Accept(fd int) (int, unix.Sockaddr, error) {
	var sa unix.Sockaddr
	nfd, err := cloexec(func() (nfd int, err error) {
		nfd, sa, err = unix.Accept(fd)
		return nfd, err
	})
	if err != nil {
		return -1, nil, err
	}
	nfd, err = finish(nfd, setup)
	if err != nil {
		return -1, nil, err
	}
	return nfd, sa, nil
}

// Dup2 makes newfd a close-on-exec duplicate of oldfd (dup2, then
// FD_CLOEXEC), closing what newfd was first. oldfd and newfd must differ.
func Dup2(oldfd, newfd int) error {
	_, err := cloexec(func() (int, error) { return newfd, unix.Dup2(oldfd, newfd) })
	return err
}

// Pipe is pipe(2), then both ends made close-on-exec and non-blocking:
// p[0] is the read end, p[1] the write end.
func Pipe() ([2]int, error) {
	p, err := cloexecPair(func() (p [2]int, err error) {
		err = unix.Pipe(p[:])
		return p, err
	})
	if err != nil {
		return p, err
	}
	return finishPair(p, SetNonblock)
}

// cloexec makes a descriptor with create and marks it close-on-exec, both
// under the fork lock.
func cloexec(create func() (int, error)) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := create()
	if err != nil {
		return -1, err
	}
	unix.CloseOnExec(fd)
	return fd, nil
}

// cloexecPair makes a pair of descriptors with create and marks both
// close-on-exec, all under the fork lock.
func cloexecPair(create func() ([2]int, error)) ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	p, err := create()
	if err != nil {
		return [2]int{-1, -1}, err
	}
	unix.CloseOnExec(p[0])
	unix.CloseOnExec(p[1])
	return p, nil
}

// setup makes a new socket non-blocking and SO_NOSIGPIPE.
func setup(fd int) error {
	if err := SetNonblock(fd); err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
}

// finish applies set to a new descriptor, and closes it if that fails.
func finish(fd int, set func(fd int) error) (int, error) {
	if err := set(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// finishPair applies set to both ends of a new pair, and closes both if it
// fails on either.
func finishPair(p [2]int, set func(fd int) error) ([2]int, error) {
	for _, fd := range p {
		if err := set(fd); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return [2]int{-1, -1}, err
		}
	}
	return p, nil
}
