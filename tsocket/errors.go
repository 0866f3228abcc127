package tsocket

import (
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"

	"github.com/gotevent/gotevent/internal/errno"
)

// Errors returned by this package. Test for them with errors.Is: every
// error a request fails with wraps the errno (or sentinel) that caused it,
// so errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed) and
// errors.Is(err, ErrBusy) work through the [OpError] around it. io.EOF and
// io.ErrUnexpectedEOF are returned bare, as io.Reader does.
var (
	// ErrBusy is the error of a second readv, writev, recvfrom, sendto or
	// accept started while one of the same kind is in flight on the same
	// socket, and of a disconnect while a writev or sendto is in flight.
	// errors.Is(err, syscall.EBUSY) also holds.
	ErrBusy error = errno.New("tsocket: operation already in flight", syscall.EBUSY)

	// ErrInvalidAddress is wrapped by every [AddressError]; errors.Is(err,
	// syscall.EINVAL) also holds.
	ErrInvalidAddress error = errno.New("tsocket: invalid address", syscall.EINVAL)

	// ErrEmptyVector is the error of a readv or writev given no buffers,
	// and of a ReadvPDUSend whose NextVectorFunc returns buffers that are
	// all empty. errors.Is(err, syscall.EINVAL) also holds.
	ErrEmptyVector error = errno.New("tsocket: empty I/O vector", syscall.EINVAL)

	// ErrWrongContext is returned when a request is started on a context
	// other than the one the socket's events live on while the socket is
	// in use there. A socket whose last request has ended keeps its fd
	// event until that context's next iteration, and can move only then.
	// errors.Is(err, syscall.EINVAL) also holds.
	ErrWrongContext error = errno.New("tsocket: socket is in use on another event context", syscall.EINVAL)
)

// errClosed is what requests on a closed or disconnected socket fail with.
var errClosed = net.ErrClosed

// AddressError reports an address that could not be built or parsed: a host
// name where a numeric address is required, a family that does not match,
// a port outside 0..65535, a unix path that does not fit sun_path, or text
// that is not in one of the forms ParseAddress accepts. It wraps
// [ErrInvalidAddress].
type AddressError struct {
	Func   string // the function that rejected it: "InetAddress", "UnixAddress", "ParseAddress"
	Input  string // the text rejected
	Reason string // what is wrong with it
}

// Error returns "tsocket: Func(Input): Reason".
func (e *AddressError) Error() string {
	return "tsocket: " + e.Func + " " + strconv.Quote(e.Input) + ": " + e.Reason
}

// Unwrap returns ErrInvalidAddress.
func (e *AddressError) Unwrap() error { return ErrInvalidAddress }

// OpError is the error of a socket operation, as net.OpError: it names the
// operation, the socket's network and addresses, and wraps the cause: an
// *os.SyscallError naming the system call around its errno, a sentinel of
// this package, net.ErrClosed, or (for ReadvPDUSend) what the
// NextVectorFunc returned. It is a net.Error.
type OpError struct {
	// Op is the operation, one name for every request of a kind whatever
	// failed inside it; the system call that failed is named by the
	// *os.SyscallError in Err. A request failed by Close keeps its own
	// Op, with Err net.ErrClosed.
	//
	//	"connect"     ConnectSend; UDPSocket and UnixDgramSocket given a remote
	//	"accept"      AcceptSend
	//	"readv"       ReadvSend, ReadvSomeFuncSend, ReadvPDUSend, ReadvPDUQueueSend
	//	"read"        ReadSomeSend, ReadSomeFuncSend, RecvFDsSend
	//	"writev"      WritevSend, WritevQueueSend, SendFDsSend
	//	"recvfrom"    RecvFromSend
	//	"sendto"      SendToSend, SendToQueueSend
	//	"tls"         a TLS handshake (reserved: DESIGN's TLS streams)
	//	"listen"      Listen
	//	"socket"      UDPSocket and UnixDgramSocket making the socket
	//	"bind"        UDPSocket and UnixDgramSocket binding it to local
	//	"socketpair"  Socketpair
	//	"existing"    ExistingSocket
	//	"ioctl"       Stream.PendingBytes
	//	"disconnect"  DisconnectSend
	//	"detach"      Stream.Detach
	//	"shutdown"    CloseWriteSend
	//	"close"       Close of a Stream, Dgram or Listener
	Op string
	// Net is the socket's network: "tcp", "udp", "unix" or "unixgram".
	Net string
	// Source is the local address, if known.
	Source Address
	// Addr is the remote address, if known.
	Addr Address
	// Err is the cause.
	Err error
}

// Error describes the operation, the addresses and the cause.
func (e *OpError) Error() string {
	s := "tsocket: " + e.Op
	if e.Net != "" {
		s += " " + e.Net
	}
	if e.Source != nil {
		s += " " + e.Source.String()
	}
	if e.Addr != nil {
		if e.Source != nil {
			s += "->"
		} else {
			s += " "
		}
		s += e.Addr.String()
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *OpError) Unwrap() error { return e.Err }

var _ net.Error = (*OpError)(nil)

// Timeout reports whether the cause is a timeout, as net.OpError does: an
// error in the chain with a Timeout method that says so (syscall.Errno
// counts ETIMEDOUT, and EAGAIN and EWOULDBLOCK, which a unix connect to a
// full backlog gives), or anything that matches ETIMEDOUT, such as
// tevent.ErrTimedOut.
func (e *OpError) Timeout() bool {
	if errors.Is(e.Err, syscall.ETIMEDOUT) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}

// Temporary reports whether the cause is temporary, as net.OpError does:
// ECONNRESET or ECONNABORTED from an accept, a timeout, or an error in the
// chain with a Temporary method that says so (syscall.Errno counts EINTR,
// EMFILE, ENFILE and the timeouts). As with
// net.Error, what counts is not well defined; prefer Timeout, or errors.Is
// with the errno that matters.
func (e *OpError) Temporary() bool {
	if e.Op == "accept" && (errors.Is(e.Err, syscall.ECONNRESET) || errors.Is(e.Err, syscall.ECONNABORTED)) {
		return true
	}
	if e.Timeout() {
		return true
	}
	var t interface{ Temporary() bool }
	return errors.As(e.Err, &t) && t.Temporary()
}

// sysErr names the syscall that failed, leaving sentinels alone.
func sysErr(call string, err error) error {
	if errno, ok := err.(syscall.Errno); ok {
		return os.NewSyscallError(call, errno)
	}
	return err
}

// opError builds the public error of op; io.EOF passes through bare.
func opError(op, network string, local, remote Address, err error) error {
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return err
	}
	return &OpError{Op: op, Net: network, Source: local, Addr: remote, Err: err}
}
