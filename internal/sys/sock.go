//go:build unix

package sys

import "golang.org/x/sys/unix"

// The calls below are the x/sys/unix calls of the same names, or small
// compositions of them, the same on every system.

// Close is close(2). Never retry it, even on EINTR: the descriptor is
// released whatever close returned, and its number may already be reused.
func Close(fd int) error { return unix.Close(fd) }

// Bind is bind(2).
func Bind(fd int, sa unix.Sockaddr) error { return unix.Bind(fd, sa) }

// Connect is connect(2). On a non-blocking socket EINPROGRESS (and EINTR,
// after which the connection goes on in the background) means wait until
// the socket is writable, then read [SocketError].
func Connect(fd int, sa unix.Sockaddr) error { return unix.Connect(fd, sa) }

// Listen is listen(2).
func Listen(fd, backlog int) error { return unix.Listen(fd, backlog) }

// Getsockname is getsockname(2).
func Getsockname(fd int) (unix.Sockaddr, error) { return unix.Getsockname(fd) }

// Getpeername is getpeername(2).
func Getpeername(fd int) (unix.Sockaddr, error) { return unix.Getpeername(fd) }

// Recvfrom is recvfrom(2) without flags.
func Recvfrom(fd int, b []byte) (int, unix.Sockaddr, error) { return unix.Recvfrom(fd, b, 0) }

// Sendto is sendto(2) of b to the address to (nil on a connected socket),
// with MSG_NOSIGNAL where the system has it.
func Sendto(fd int, b []byte, to unix.Sockaddr) error { return unix.Sendto(fd, b, noSignal, to) }

// Unlink is unlink(2), for the path of a unix socket.
func Unlink(path string) error { return unix.Unlink(path) }

// SocketError returns the error pending on a socket (getsockopt SO_ERROR),
// which clears it: nil when there is none, the errno otherwise. The error
// of the getsockopt itself is returned the same way.
func SocketError(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if v != 0 {
		return unix.Errno(v)
	}
	return nil
}

// SocketType returns the type of a socket (getsockopt SO_TYPE), such as
// unix.SOCK_STREAM; ENOTSOCK if fd is not one.
func SocketType(fd int) (int, error) { return unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE) }

// SetNoDelay turns Nagle's algorithm off on a TCP socket (TCP_NODELAY).
func SetNoDelay(fd int) error { return unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1) }

// SetReuseAddr sets SO_REUSEADDR, so a listener can bind an address whose
// previous connections are still in TIME_WAIT.
func SetReuseAddr(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) }

// SetReusePort sets SO_REUSEPORT, so several listeners can share a port.
func SetReusePort(fd int) error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) }

// SetNonblock sets O_NONBLOCK on fd, for a descriptor made elsewhere.
func SetNonblock(fd int) error { return unix.SetNonblock(fd, true) }

// Nonblocking reports whether fd has O_NONBLOCK set (false for a
// descriptor that is not open).
func Nonblocking(fd int) bool {
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	return err == nil && fl&unix.O_NONBLOCK != 0
}

// CheckOpen returns nil if fd is an open descriptor and EBADF if it is not
// (fcntl F_GETFD), for backends such as poll(2) that would otherwise accept
// any number and then report POLLNVAL for it. A number that is negative or
// does not fit in an int32 is EBADF without asking the kernel, which takes
// descriptors as 32-bit numbers and would check a truncated one.
func CheckOpen(fd int) error {
	if fd < 0 || !fitsInt32(fd) {
		return unix.EBADF
	}
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err
}

// fitsInt32 reports whether fd fits in an int32, the width of a
// descriptor in struct pollfd and struct epoll_event.
func fitsInt32(fd int) bool { return int(int32(fd)) == fd }

// Poll is poll(2); msec -1 waits without a limit.
func Poll(fds []unix.PollFd, msec int) (int, error) { return unix.Poll(fds, msec) }
