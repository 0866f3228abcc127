package tsocket

import (
	"io"
	"syscall"

	"github.com/gotevent/gotevent/internal/errno"
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
)

// Descriptor passing over unix streams (SCM_RIGHTS) and Detach: how one
// process hands a connection to another, as Dovecot's imap-hibernate takes
// idle IMAP connections over from the imap processes, or a pre-forked
// server hands accepted sockets to its workers.

// ErrFDsTruncated is the error (in an [*OpError]) of a [RecvFDsSend] that
// was sent more descriptors than its maxFDs: the control data came
// truncated (MSG_CTRUNC), or held more than maxFDs. Every descriptor that
// did arrive has been closed; the bytes read are lost with them, and the
// stream is best closed, since the two ends no longer agree on where the
// protocol is. errors.Is(err, syscall.EMSGSIZE) also holds.
var ErrFDsTruncated error = errno.New("tsocket: more descriptors sent than the receive had room for", syscall.EMSGSIZE)

// The EINVAL errors of descriptor passing and Detach.
var (
	errNotPlainUnix   = errno.New("tsocket: descriptors pass over plain unix streams only", syscall.EINVAL)
	errNegativeMaxFDs = errno.New("tsocket: maxFDs below 0", syscall.EINVAL)
	errDetachTLS      = errno.New("tsocket: a TLS stream's state cannot go with its descriptor", syscall.EINVAL)
)

// writeExtra is what SendFDsSend and CloseWriteSend keep on a stream while
// they are in flight, in its streamExtra: the write engine looks at it.
type writeExtra struct {
	// rights is the SendFDsSend in flight while none of its bytes have
	// gone, and fds its descriptors: writeOnce sends them with the first
	// bytes. A request other than s.wr.req here has ended (abandoned,
	// timed out, failed) and is ignored.
	rights *tevent.Req[int]
	fds    []int

	// closing is the CloseWriteSend waiting for the writev in flight.
	closing *tevent.Req[struct{}]
}

// SendFDsSend writes every byte of iov to s, as [WritevSend] does, with
// the descriptors fds passed along (SCM_RIGHTS): they travel with the
// first byte, in one sendmsg carrying the control message, and the rest
// of iov, if that call takes only part of it, goes out as a normal write.
// The peer receives them with [RecvFDsSend] (or net.UnixConn.ReadMsgUnix),
// reading the byte they came with; a plain read of that byte (ReadvSend,
// a Reader) makes the kernel close them. With no fds it is a WritevSend.
//
// s must be a unix stream not under TLS; any other fails with an error
// for which errors.Is(err, syscall.EINVAL) holds. iov must hold at least
// one byte (ErrEmptyVector otherwise). The request counts as the stream's
// one write in flight: ErrBusy while a writev is in flight, and a writev
// started while it is fails so too.
//
// iov and fds belong to the caller and must not be changed until the
// request has finished. The descriptors stay the caller's, open, whatever
// the outcome: once the first byte went the kernel holds references of
// its own, so the caller may close them as soon as SendFDsRecv returns
// (it must, to hand a connection over rather than share it). Used on the
// loop goroutine, as every request on s.
func SendFDsSend(ev *tevent.Context, s *Stream, iov [][]byte, fds []int) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	var err error
	switch {
	case s.closed:
		err = errClosed
	case !s.unix || s.isTLS():
		err = errNotPlainUnix
	case total(iov) == 0:
		err = ErrEmptyVector
	case s.wr.req != nil:
		err = ErrBusy
	default:
		err = s.reg.use(ev, s.hasWaits() || s.reading())
	}
	if req.Error(s.opErr("writev", err)) {
		return req.Post()
	}
	s.wr.req = req
	s.wr.v.set(iov)
	s.wrWait = tevent.FDWrite
	if len(fds) > 0 {
		x := s.extra()
		x.w.rights, x.w.fds = req, fds
	}
	req.SetCleanupFn(s.writeCleanup)
	s.writeStep()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// SendFDsRecv returns the number of bytes written (all of iov), or the
// error as WritevRecv does, with Op "writev" (as net.UnixConn's
// WriteMsgUnix is a "write"): EINVAL for a stream that cannot pass
// descriptors, ErrBusy, ErrEmptyVector, net.ErrClosed, or the errno of
// the sendmsg (EBADF for a descriptor that is not open, ETOOMANYREFS or
// EINVAL past the kernel's limit of descriptors a message, 253 on Linux).
func SendFDsRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// writeCleanup is the cleanup function of SendFDsSend: the stream's, and
// then it forgets descriptors a request that ended did not send.
func (s *Stream) writeCleanup(st tevent.State) {
	s.cleanup(st)
	if x := s.x; x != nil && x.w.rights != nil && x.w.rights != s.wr.req {
		x.w.rights, x.w.fds = nil, nil
	}
}

// writeRights is writeOnce for a SendFDsSend whose descriptors have not
// gone yet: one sendmsg of the rest of the vector with them.
func (s *Stream) writeRights() (n, want int, err error) {
	x, v := s.x, &s.wr.v
	bufs := make([][]byte, 0, min(len(v.iov)-v.idx, maxIovecs))
	for i := v.idx; i < len(v.iov) && len(bufs) < maxIovecs; i++ {
		b := v.iov[i]
		if i == v.idx {
			b = b[v.off:]
		}
		bufs = append(bufs, b)
		want += len(b)
	}
	n, err = retry("sendmsg", func(fd int, bufs [][]byte) (int, error) {
		return sys.SendRights(fd, bufs, x.w.fds)
	}, s.reg.fd, bufs)
	if n > 0 {
		x.w.rights, x.w.fds = nil, nil // gone with the first byte
	}
	return n, want, err
}

// FDMessage is what a [RecvFDsSend] received: N bytes, at the front of
// its buffer, and the descriptors that came with them. The descriptors
// are the caller's to close (or to wrap: [ExistingSocket] for a stream,
// os.NewFile for anything else); they are close-on-exec.
type FDMessage struct {
	N   int   // bytes read into the buffer
	FDs []int // descriptors received, nil if none came
}

// RecvFDsSend reads from s with one recvmsg of at most len(buf) bytes and
// up to maxFDs descriptors passed with SCM_RIGHTS ([SendFDsSend],
// net.UnixConn.WriteMsgUnix). As [ReadSomeSend] it finishes as soon as
// any bytes arrive; the descriptors come with the read of the byte they
// were sent with, so a protocol that passes them reads that message with
// RecvFDsSend and no other read (a plain read of it drops them). Bytes
// sent before it may come in the same read.
//
// Received descriptors are close-on-exec (MSG_CMSG_CLOEXEC on Linux and
// FreeBSD; on darwin FD_CLOEXEC is set right after the recvmsg, with
// syscall.ForkLock held so that os/exec cannot fork in between, as
// internal/sys explains). More descriptors than maxFDs is an error,
// [ErrFDsTruncated]: every descriptor that did arrive is closed, so a
// peer cannot make the process leak them. maxFDs 0 accepts none.
//
// s must be a unix stream not under TLS (EINVAL otherwise, as for
// SendFDsSend); buf must not be empty (ErrEmptyVector), maxFDs not below
// 0 (EINVAL). The request counts as the stream's one read in flight
// (ErrBusy while another read is, and the other way round). buf belongs
// to the caller until the request has finished. A request abandoned after
// it received descriptors, before RecvFDsRecv took them, closes them.
// Used on the loop goroutine, as every request on s.
func RecvFDsSend(ev *tevent.Context, s *Stream, buf []byte, maxFDs int) *tevent.Req[FDMessage] {
	req := tevent.NewReq[FDMessage](ev)
	err := s.startRead(ev, "read", len(buf) == 0)
	switch {
	case err != nil:
	case !s.unix || s.isTLS():
		err = s.opErr("read", errNotPlainUnix)
	case maxFDs < 0:
		err = s.opErr("read", errNegativeMaxFDs)
	}
	if req.Error(err) {
		return req.Post()
	}
	r := &recvFDs{req: req, buf: buf, max: maxFDs, oob: make([]byte, sys.RightsSpace(maxFDs))}
	s.beginRead(r)
	req.SetCleanupFn(func(st tevent.State) {
		s.cleanup(st)
		if st == tevent.StateReceived && req.Abandoned() {
			m, _ := req.Recv()
			closeFds(m.FDs) // received, then abandoned: nobody else will close them
		}
	})
	s.readStepOrWait()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// RecvFDsRecv returns the bytes read (at least one) and the descriptors
// received with them, or the error: io.EOF if the peer closed,
// ErrFDsTruncated, EINVAL for a stream that cannot pass descriptors or a
// negative maxFDs, ErrBusy, ErrEmptyVector, net.ErrClosed, or the errno
// of the recvmsg, all but io.EOF in an *OpError with Op "read" (as
// net.UnixConn's ReadMsgUnix is a "read").
func RecvFDsRecv(req *tevent.Req[FDMessage]) (n int, fds []int, err error) {
	m, err := req.Recv()
	return m.N, m.FDs, err
}

// recvFDs is a RecvFDsSend, the read in flight. Its one read is a
// recvmsg, which no transport makes, so it makes it from vector: the
// engine asks for a vector before every read, and this one never has
// one. vector reads, and then ends the request or waits for the socket;
// either way it reports false, so the engine makes no read of its own.
type recvFDs struct {
	req *tevent.Req[FDMessage]
	buf []byte
	max int
	oob []byte
}

func (r *recvFDs) op() string { return "read" }

func (r *recvFDs) vector(s *Stream) bool {
	n, fds, truncated, err := recvRights(s.reg.fd, r.buf, r.oob)
	switch {
	case sys.WouldBlock(err):
		s.waitRead()
	case err != nil:
		closeFds(fds)
		s.failRead(sysErr("recvmsg", err))
	case truncated || len(fds) > r.max:
		closeFds(fds)
		s.failRead(ErrFDsTruncated)
	case n == 0:
		closeFds(fds) // none can come without a byte; to be sure
		s.failRead(io.EOF)
	default:
		endRead(s, r.req, FDMessage{N: n, FDs: fds}, nil, false)
	}
	return false
}

func (r *recvFDs) got(*Stream, int) bool { return false } // vector makes the read
func (r *recvFDs) wait(*Stream)          {}
func (r *recvFDs) inProgress() bool      { return r.req.IsInProgress() }

func (r *recvFDs) fail(s *Stream, err error, deferCB bool) {
	endRead(s, r.req, FDMessage{}, err, deferCB)
}

// recvRights is sys.RecvRights with EINTR retried, as retry does for the
// other calls.
func recvRights(fd int, b, oob []byte) (n int, fds []int, truncated bool, err error) {
	for {
		n, fds, truncated, err = sys.RecvRights(fd, b, oob)
		if !sys.Interrupted(err) {
			return n, fds, truncated, err
		}
	}
}

// closeFds closes descriptors received for nobody.
func closeFds(fds []int) {
	for _, fd := range fds {
		closeFd(fd)
	}
}

// isTLS reports whether s runs under TLS.
func (s *Stream) isTLS() bool {
	_, ok := s.tr.(*tlsTransport)
	return ok
}

// Detach makes s give up its descriptor without closing it, and returns
// it: to pass the connection to another process with [SendFDsSend], or to
// hand it to code that wants a raw descriptor. The descriptor stays
// non-blocking and close-on-exec. Afterwards s is closed: requests on it
// fail with net.ErrClosed, Close does nothing, and a [Server] tracking s
// forgets it (its Conns drops, as if s had been closed).
//
// Detach fails with ErrBusy while a request is in flight on s or s has
// wait events (end them first: what is in flight cannot go with the
// descriptor), with an error for which errors.Is(err, syscall.EINVAL)
// holds on a TLS stream (the TLS session's state lives in this process
// and cannot go with the descriptor), and with net.ErrClosed on a closed
// stream; all in an *OpError with Op "detach".
//
// Bytes a [Reader] of s has read from the socket but not returned are the
// caller's to carry along: the socket no longer holds them. Reader.Buffered
// says how many; a [ReadFullSend] of a buffer that size takes them out
// (it completes from the Reader's buffer without touching the socket),
// and they go with the descriptor, in the same SendFDsSend say, for the
// receiving side to treat as read before anything from the socket:
//
//	rest := make([]byte, r.Buffered())
//	req := tsocket.ReadFullSend(ev, r, rest) // at once, through Post
//	... // once it is done:
//	fd, err := s.Detach()
//	send := tsocket.SendFDsSend(ev, ctl, [][]byte{hdr, rest}, []int{fd})
//	... // once it is done: unix.Close(fd)
//
// A Writer of s must have written everything (WriterDrainSend to 0) and
// have no writev in flight.
func (s *Stream) Detach() (fd int, err error) {
	switch {
	case s.closed:
		err = errClosed
	case s.isTLS():
		err = errDetachTLS
	case s.busy():
		err = ErrBusy
	}
	if err != nil {
		return -1, s.opErr("detach", err)
	}
	s.LocalAddress() // kept for error messages, as Close keeps them
	s.RemoteAddress()
	s.closed = true
	s.reg.drop()
	fd, s.reg.fd = s.reg.fd, -1
	if s.srv != nil {
		s.srv.forget(s)
		s.srv = nil
	}
	return fd, nil
}
