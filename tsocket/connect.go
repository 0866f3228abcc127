package tsocket

import (
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// connectState is a connect in flight.
type connectState struct {
	req     *tevent.Req[*Stream]
	ev      *tevent.Context
	fd      int
	fde     *tevent.FD
	network string
	local   Address
	remote  Address
	bufs    socketBuffers // ConnectBuffers (options.go)
}

// ConnectSend connects a new stream socket to remote
// (tstream_inet_tcp_connect_send, tstream_unix_connect_send), bound to
// local first when local is not nil. The connect is non-blocking; errors
// such as ECONNREFUSED come through ConnectRecv. TCP streams get
// TCP_NODELAY, as Go's net package does, since requests here are whole
// messages. A unix connect whose listener's backlog is full fails with
// EAGAIN, as in Samba's tsocket and Go's net: the caller decides whether
// and when to try again. opts set up the socket before the connect
// ([ConnectBuffers]).
func ConnectSend(ev *tevent.Context, local, remote Address, opts ...ConnectOption) *tevent.Req[*Stream] {
	req := tevent.NewReq[*Stream](ev)
	var cfg connectConfig
	for _, o := range opts {
		o(&cfg)
	}
	st := &connectState{req: req, ev: ev, fd: -1, local: local, remote: remote, bufs: cfg.bufs}
	if remote == nil {
		req.Error(opError("connect", "", local, remote, ErrInvalidAddress))
		return req.Post()
	}
	domain, err := sameFamily(local, remote)
	if req.Error(opError("connect", "", local, remote, err)) {
		return req.Post()
	}
	st.network = streamNetwork(domain)
	req.SetCleanupFn(st.cleanup)
	if req.Error(st.start(domain)) {
		return req.Post()
	}
	if !req.IsInProgress() {
		// Connected at once (a unix socket always is): the callback must
		// still wait for a later iteration.
		return req.Post()
	}
	return req
}

// ConnectRecv returns the connected stream, or the error of the connect
// wrapped in an *OpError (errors.Is(err, syscall.ECONNREFUSED), ...).
func ConnectRecv(req *tevent.Req[*Stream]) (*Stream, error) { return req.Recv() }

func (st *connectState) fail(err error) error {
	return opError("connect", st.network, st.local, st.remote, err)
}

func (st *connectState) start(domain int) error {
	fd, err := newSocket(domain, unix.SOCK_STREAM)
	if err != nil {
		return st.fail(err)
	}
	st.fd = fd
	if err := st.bufs.set(fd); err != nil {
		return st.fail(err)
	}
	if st.local != nil {
		if err := bindTo(fd, st.local); err != nil {
			return st.fail(err)
		}
	}
	sa, err := st.remote.sockaddr()
	if err != nil {
		return st.fail(err)
	}
	for {
		err = sys.Connect(fd, sa)
		if !sys.Interrupted(err) {
			break
		}
	}
	switch err {
	case nil:
		st.connected()
		return nil
	case unix.EINPROGRESS, unix.EALREADY:
	default:
		return st.fail(sysErr("connect", err))
	}
	fde, err := st.ev.AddFD(fd, tevent.FDWrite, st.writable)
	if err != nil {
		return st.fail(err)
	}
	st.fde = fde
	return nil
}

// writable runs when the connect has finished, one way or the other.
func (st *connectState) writable(*tevent.FD, tevent.Flags) {
	err := sys.SocketError(st.fd)
	switch err {
	case nil:
		if _, perr := sys.Getpeername(st.fd); perr != nil {
			return // spurious wake-up: still connecting
		}
	case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
		return
	default:
		st.req.Error(st.fail(sysErr("connect", err)))
		return
	}
	st.fde.Remove()
	st.fde = nil
	st.connected()
}

// connected hands the fd over to a new Stream.
func (st *connectState) connected() {
	fd := st.fd
	st.fd = -1
	if st.network == "tcp" {
		_ = sys.SetNoDelay(fd) // an optimisation only
	}
	s := newStream(st.ev, fd, st.network)
	s.remote = st.remote
	st.req.Done(s)
}

// cleanup releases the socket of a connect that failed, timed out or was
// abandoned.
func (st *connectState) cleanup(state tevent.State) {
	if state == tevent.StateReceived && st.req.Abandoned() {
		if s, _ := st.req.Recv(); s != nil {
			_ = s.Close() // connected but abandoned: nobody else will close it
		}
	}
	if st.fde != nil {
		st.fde.Remove()
		st.fde = nil
	}
	if st.fd >= 0 {
		closeFd(st.fd)
		st.fd = -1
	}
}

// Socketpair returns a connected pair of unix stream sockets
// (socketpair(2), both ends non-blocking and close-on-exec), as Samba's
// tests build with tstream_bsd_existing_socket.
func Socketpair(ev *tevent.Context) (*Stream, *Stream, error) {
	fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, nil, opError("socketpair", "unix", nil, nil, sysErr("socketpair", err))
	}
	return newStream(ev, fds[0], "unix"), newStream(ev, fds[1], "unix"), nil
}

// ExistingSocket wraps fd, a connected stream socket, in a Stream
// (tstream_bsd_existing_socket). The Stream takes ownership of fd and makes
// it non-blocking; Close closes it. fd must be a SOCK_STREAM socket.
func ExistingSocket(ev *tevent.Context, fd int) (*Stream, error) {
	typ, err := sys.SocketType(fd)
	if err != nil {
		return nil, opError("existing", "", nil, nil, sysErr("getsockopt", err))
	}
	if typ != unix.SOCK_STREAM {
		return nil, opError("existing", "", nil, nil, sysErr("getsockopt", unix.ESOCKTNOSUPPORT))
	}
	if err := sys.SetNonblock(fd); err != nil {
		return nil, opError("existing", "", nil, nil, sysErr("fcntl", err))
	}
	sa, err := sys.Getsockname(fd)
	if err != nil {
		return nil, opError("existing", "", nil, nil, sysErr("getsockname", err))
	}
	network := "tcp"
	if _, ok := sa.(*unix.SockaddrUnix); ok {
		network = "unix"
	}
	s := newStream(ev, fd, network)
	s.local = fromSockaddr(sa)
	return s, nil
}
