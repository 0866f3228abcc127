package tsocket

import (
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// Socket is what [*Stream] and [*Dgram] have in common, for code that
// handles either kind, such as [DisconnectSend].
type Socket interface {
	// LocalAddress returns the address the socket is bound to, or nil.
	LocalAddress() Address
	// RemoteAddress returns the peer's address, or nil if not connected.
	RemoteAddress() Address
	// Close closes the socket; requests in flight fail with net.ErrClosed.
	Close() error

	disconnect() error
}

// DisconnectSend disconnects sock (tstream_disconnect_send,
// tdgram_disconnect_send): it closes the socket once nothing is in flight
// on it. With a request in flight it fails with ErrBusy; Close tears a busy
// socket down instead. Requests started afterwards fail with
// net.ErrClosed. It finishes through Post.
func DisconnectSend(ev *tevent.Context, sock Socket) *tevent.Req[struct{}] {
	req := tevent.NewReq[struct{}](ev)
	if !req.Error(sock.disconnect()) {
		req.Done(struct{}{})
	}
	return req.Post()
}

// DisconnectRecv returns the result of DisconnectSend: nil, ErrBusy,
// net.ErrClosed if already disconnected, or the error of close(2).
func DisconnectRecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}

// newSocket creates a non-blocking, close-on-exec socket.
func newSocket(domain, typ int) (int, error) {
	fd, err := sys.Socket(domain, typ, 0)
	if err != nil {
		return -1, sysErr("socket", err)
	}
	return fd, nil
}

// bindTo binds fd to a.
func bindTo(fd int, a Address) error {
	sa, err := a.sockaddr()
	if err != nil {
		return err
	}
	if err := sys.Bind(fd, sa); err != nil {
		return sysErr("bind", err)
	}
	return nil
}

// closeAndUnlink closes fd, then removes the socket file at path (if not
// "") that binding it created. The close error comes first; a file already
// gone is no error, but one that cannot be removed is, since it would make
// the next bind to that path fail with EADDRINUSE.
func closeAndUnlink(fd int, path string) error {
	err := sys.Close(fd)
	if err != nil {
		err = sysErr("close", err)
	}
	if path != "" {
		if uerr := sys.Unlink(path); uerr != nil && uerr != unix.ENOENT && err == nil {
			err = sysErr("unlink", uerr)
		}
	}
	return err
}

func closeFd(fd int) {
	_ = sys.Close(fd) // an fd that failed to become a socket: nothing to report to
}

// sameFamily checks that local and remote can be used on one socket and
// returns the socket domain.
func sameFamily(local, remote Address) (int, error) {
	switch {
	case local == nil && remote == nil:
		return 0, ErrInvalidAddress
	case local == nil:
		return remote.domain(), nil
	case remote == nil:
		return local.domain(), nil
	case local.domain() != remote.domain():
		return 0, &AddressError{Func: "socket", Input: local.String() + " " + remote.String(), Reason: "local and remote address families differ"}
	}
	return local.domain(), nil
}

func streamNetwork(domain int) string {
	if domain == unix.AF_UNIX {
		return "unix"
	}
	return "tcp"
}
