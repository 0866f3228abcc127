package tsocket

import (
	"io"

	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// Stream is a connected stream socket, TCP or unix (tstream_context with the
// bsd backend). Reading and writing are requests: [ReadvSend],
// [WritevSend], [ReadvPDUSend] and their queued variants. At most one readv
// (or readv_pdu) and one writev are in flight at a time; a second fails
// with [ErrBusy].
//
// A Stream belongs to the goroutine running its context's loop: every
// method and every request on it is used from there. It owns its
// descriptor; Close releases it. A Stream with no request in flight and no
// wait event holds no event in the loop.
type Stream struct {
	reg     fdReg
	network string // "tcp" or "unix"
	closed  bool

	local, remote Address
	remoteSA      any // unix.Sockaddr from accept, converted on demand

	rd  readState
	wr  writeState
	vec []unix.Iovec // scratch iovec array, rebuilt for every call
	one [1][]byte    // ReadSomeSend's vector, so it needs no allocation

	readCleanupFn  func(tevent.State)
	writeCleanupFn func(tevent.State)

	waits []*WaitEvent
}

// readState is the readv or readv_pdu in flight; it lives in the Stream so
// that a read costs no allocation beyond its request.
type readState struct {
	req   *tevent.Req[int]
	pdu   *tevent.Req[struct{}]
	next  NextVectorFunc
	iov   [][]byte
	idx   int
	off   int
	total int
	some  bool // ReadSomeSend: done after the first bytes
}

func (r *readState) active() bool { return r.req != nil || r.pdu != nil }

func (r *readState) inProgress() bool {
	return (r.req != nil && r.req.IsInProgress()) || (r.pdu != nil && r.pdu.IsInProgress())
}

// writeState is the writev in flight.
type writeState struct {
	req   *tevent.Req[int]
	iov   [][]byte
	idx   int
	off   int
	total int
}

func newStream(ev *tevent.Context, fd int, network string) *Stream {
	s := &Stream{network: network}
	s.reg.init(ev, fd, s.onFD)
	s.readCleanupFn = s.readCleanup
	s.writeCleanupFn = s.writeCleanup
	return s
}

// onFD is the stream's fd handler: it moves the writev and the read on.
func (s *Stream) onFD(_ *tevent.FD, flags tevent.Flags) {
	s.reg.inHandler = true
	if flags&tevent.FDWrite != 0 && s.wr.req != nil {
		s.writeStep()
	}
	if flags&tevent.FDRead != 0 && s.rd.active() && !s.closed {
		s.readStep()
	}
	s.reg.inHandler = false
	if s.closed {
		return
	}
	if err := s.reg.apply(); err != nil {
		s.failAll(s.opErr("wait", err), false)
	}
}

// wants recomputes the flags the in-flight requests need.
func (s *Stream) wants() tevent.Flags {
	var f tevent.Flags
	if s.rd.active() {
		f |= tevent.FDRead
	}
	if s.wr.req != nil {
		f |= tevent.FDWrite
	}
	return f
}

func (s *Stream) opErr(op string, err error) error {
	return opError(op, s.network, s.LocalAddress(), s.RemoteAddress(), err)
}

// ReadvSend starts reading from s until every byte of every buffer in iov is
// filled (tstream_readv_send). The buffers belong to the caller and must
// not be touched until the request has finished. The read is tried at once;
// if data is already there the request completes through Post.
func ReadvSend(ev *tevent.Context, s *Stream, iov [][]byte) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	if err := s.startRead(ev, "readv", len(iov) == 0); req.Error(err) {
		return req.Post()
	}
	s.rd = readState{req: req, iov: iov}
	s.rd.idx, s.rd.off = advance(iov, 0, 0, 0)
	req.SetCleanupFn(s.readCleanupFn)
	s.readStepOrWait()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// ReadSomeSend reads what the socket holds, at least one byte and at most
// len(buf), as net.Conn.Read and recv(2) do: the request finishes as soon
// as any bytes arrive. It is how a server reads a protocol whose message
// boundaries it finds by parsing (RESP, lines) with one read per arrival,
// where ReadvPDUSend would need the pending byte count first. It counts as
// the stream's one read in flight; buf belongs to the caller and must not
// be touched until the request has finished.
func ReadSomeSend(ev *tevent.Context, s *Stream, buf []byte) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	if err := s.startRead(ev, "read", len(buf) == 0); req.Error(err) {
		return req.Post()
	}
	s.one[0] = buf
	s.rd = readState{req: req, iov: s.one[:], some: true}
	req.SetCleanupFn(s.readCleanupFn)
	s.readStepOrWait()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// ReadSomeRecv returns how many bytes ReadSomeSend read (at least one), or
// the error: io.EOF if the peer closed, ErrBusy for a second read in
// flight, ErrEmptyVector for an empty buf, net.ErrClosed after Close or
// disconnect, or the errno of a failed read wrapped in an *OpError.
func ReadSomeRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// ReadvRecv returns the number of bytes read (every byte of the vector), or
// the error: io.EOF if the peer closed before the first byte,
// io.ErrUnexpectedEOF if it closed part-way, ErrBusy for a second readv in
// flight, ErrEmptyVector for no buffers, net.ErrClosed after Close or
// disconnect, or the errno of a failed read wrapped in an *OpError.
func ReadvRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// startRead checks that a read may start.
func (s *Stream) startRead(ev *tevent.Context, op string, empty bool) error {
	switch {
	case s.closed:
		return s.opErr(op, errClosed)
	case empty:
		return s.opErr(op, ErrEmptyVector)
	case s.rd.active():
		return s.opErr(op, ErrBusy)
	}
	if err := s.reg.use(ev, len(s.waits) > 0 || s.wr.req != nil); err != nil {
		return s.opErr(op, err)
	}
	return nil
}

// readStepOrWait reads at once unless the loop is still watching the
// socket for reading (a read just finished): then the wait says whether
// data is there without a read that can only fail with EAGAIN.
func (s *Stream) readStepOrWait() {
	if s.reg.waiting(tevent.FDRead) && s.rd.idx < len(s.rd.iov) {
		if err := s.reg.set(s.wants()); err != nil {
			s.finishRead(0, s.opErr("readv", err))
		}
		return
	}
	s.readStep()
}

// readStep reads as far as the socket allows.
func (s *Stream) readStep() {
	r := &s.rd
	for {
		if r.idx >= len(r.iov) {
			if r.pdu == nil {
				s.finishRead(r.total, nil)
				return
			}
			if !s.nextVector() {
				return
			}
			continue
		}
		vec, want := iovecs(s.vec, r.iov, r.idx, r.off)
		s.vec = vec
		var n int
		var err error
		for {
			n, err = sysReadv(s.reg.fd, vec)
			if !interrupted(err) {
				break
			}
		}
		clear(vec) // do not keep the caller's buffers alive
		switch {
		case wouldBlock(err):
			if err := s.reg.set(s.wants()); err != nil {
				s.finishRead(0, s.opErr("readv", err))
			}
			return
		case err != nil:
			s.finishRead(0, s.opErr("readv", sysErr("readv", err)))
			return
		case n == 0:
			if r.total == 0 {
				s.finishRead(0, io.EOF)
			} else {
				s.finishRead(0, io.ErrUnexpectedEOF)
			}
			return
		}
		r.total += n
		r.idx, r.off = advance(r.iov, r.idx, r.off, n)
		if r.some {
			s.finishRead(r.total, nil)
			return
		}
		if n < want {
			// A short read drained the socket: wait rather than make a
			// call that can only say EAGAIN.
			if err := s.reg.set(s.wants()); err != nil {
				s.finishRead(0, s.opErr("readv", err))
			}
			return
		}
	}
}

// finishRead ends the read in flight.
func (s *Stream) finishRead(n int, err error) {
	req, pdu := s.rd.req, s.rd.pdu
	s.rd = readState{}
	s.one[0] = nil // do not keep a ReadSomeSend buffer alive
	if !s.closed {
		if e := s.reg.set(s.wants()); e != nil && err == nil {
			err = s.opErr("readv", e)
		}
	}
	if pdu != nil {
		if !pdu.Error(err) {
			pdu.Done(struct{}{})
		}
		return
	}
	if !req.Error(err) {
		req.Done(n)
	}
}

// readCleanup forgets a read whose request ended without us: it timed out,
// was cancelled or was abandoned.
func (s *Stream) readCleanup(tevent.State) {
	if s.rd.active() && !s.rd.inProgress() {
		s.rd = readState{}
		s.one[0] = nil
		if !s.closed {
			_ = s.reg.set(s.wants()) // lowering interest cannot fail
		}
	}
}

// WritevSend starts writing every byte of every buffer in iov to s
// (tstream_writev_send), across as many partial writes as it takes. The
// write is tried at once; if it completes the request finishes through
// Post. The buffers belong to the caller and must not be changed until the
// request has finished. Writes use sendmsg with MSG_NOSIGNAL: a peer that
// went away gives EPIPE or ECONNRESET, never SIGPIPE.
func WritevSend(ev *tevent.Context, s *Stream, iov [][]byte) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	var err error
	switch {
	case s.closed:
		err = s.opErr("writev", errClosed)
	case len(iov) == 0:
		err = s.opErr("writev", ErrEmptyVector)
	case s.wr.req != nil:
		err = s.opErr("writev", ErrBusy)
	default:
		if e := s.reg.use(ev, len(s.waits) > 0 || s.rd.active()); e != nil {
			err = s.opErr("writev", e)
		}
	}
	if req.Error(err) {
		return req.Post()
	}
	s.wr = writeState{req: req, iov: iov}
	s.wr.idx, s.wr.off = advance(iov, 0, 0, 0)
	req.SetCleanupFn(s.writeCleanupFn)
	s.writeStep()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// WritevRecv returns the number of bytes written (all of them) or the
// error: ErrBusy, ErrEmptyVector, net.ErrClosed, or the errno (EPIPE,
// ECONNRESET, ...) wrapped in an *OpError.
func WritevRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// writeStep writes as much as the socket takes.
func (s *Stream) writeStep() {
	w := &s.wr
	for w.idx < len(w.iov) {
		vec, want := iovecs(s.vec, w.iov, w.idx, w.off)
		s.vec = vec
		var n int
		var err error
		for {
			n, err = sysSendmsg(s.reg.fd, vec)
			if !interrupted(err) {
				break
			}
		}
		clear(vec)
		switch {
		case wouldBlock(err):
			if err := s.reg.set(s.wants()); err != nil {
				s.finishWrite(s.opErr("writev", err))
			}
			return
		case err != nil:
			s.finishWrite(s.opErr("writev", sysErr("sendmsg", err)))
			return
		}
		w.total += n
		w.idx, w.off = advance(w.iov, w.idx, w.off, n)
		if n < want {
			// The socket buffer is full: wait until it drains.
			if err := s.reg.set(s.wants()); err != nil {
				s.finishWrite(s.opErr("writev", err))
			}
			return
		}
	}
	s.finishWrite(nil)
}

func (s *Stream) finishWrite(err error) {
	req, n := s.wr.req, s.wr.total
	s.wr = writeState{}
	if !s.closed {
		if e := s.reg.set(s.wants()); e != nil && err == nil {
			err = s.opErr("writev", e)
		}
	}
	if !req.Error(err) {
		req.Done(n)
	}
}

func (s *Stream) writeCleanup(tevent.State) {
	if s.wr.req != nil && !s.wr.req.IsInProgress() {
		s.wr = writeState{}
		if !s.closed {
			_ = s.reg.set(s.wants())
		}
	}
}

// failAll fails the requests in flight with err; with deferred callbacks
// when called from Close, so no callback runs inside Close.
func (s *Stream) failAll(err error, deferCB bool) {
	if req, pdu := s.rd.req, s.rd.pdu; req != nil || pdu != nil {
		s.rd = readState{}
		s.one[0] = nil
		if req != nil {
			if deferCB {
				req.DeferCallback()
			}
			req.Error(err)
		} else {
			if deferCB {
				pdu.DeferCallback()
			}
			pdu.Error(err)
		}
	}
	if req := s.wr.req; req != nil {
		s.wr = writeState{}
		if deferCB {
			req.DeferCallback()
		}
		req.Error(err)
	}
}

// PendingBytes returns how many bytes can be read from s without waiting
// (FIONREAD, tstream_pending_bytes).
func (s *Stream) PendingBytes() (int, error) {
	if s.closed {
		return 0, s.opErr("ioctl", errClosed)
	}
	n, err := unix.IoctlGetInt(s.reg.fd, unix.SIOCINQ)
	if err != nil {
		return 0, s.opErr("ioctl", sysErr("ioctl", err))
	}
	return n, nil
}

// LocalAddress returns the address s is bound to, or nil if it cannot be
// found (after Close).
func (s *Stream) LocalAddress() Address {
	if s.local == nil && !s.closed {
		if sa, err := unix.Getsockname(s.reg.fd); err == nil {
			s.local = fromSockaddr(sa)
		}
	}
	return s.local
}

// RemoteAddress returns the address of the peer, or nil if it cannot be
// found (an unnamed unix peer has the empty unix address).
func (s *Stream) RemoteAddress() Address {
	if s.remote == nil {
		if sa, ok := s.remoteSA.(unix.Sockaddr); ok {
			s.remote = fromSockaddr(sa)
			s.remoteSA = nil
		} else if !s.closed {
			if sa, err := unix.Getpeername(s.reg.fd); err == nil {
				s.remote = fromSockaddr(sa)
			}
		}
	}
	return s.remote
}

// Fd returns the descriptor, which s still owns.
func (s *Stream) Fd() int { return s.reg.fd }

// Close closes s: requests in flight fail with net.ErrClosed (their
// callbacks run on a later iteration), wait events are removed, the fd
// event is removed and the descriptor closed. Closing again does nothing.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.LocalAddress() // keep the addresses for error messages
	s.RemoteAddress()
	s.closed = true
	s.failAll(s.opErr("close", errClosed), true)
	s.removeWaitEvents()
	s.reg.drop()
	if err := sysClose(s.reg.fd); err != nil {
		return s.opErr("close", sysErr("close", err))
	}
	return nil
}

func (s *Stream) disconnect() error {
	if s.closed {
		return s.opErr("disconnect", errClosed)
	}
	if s.rd.active() || s.wr.req != nil {
		return s.opErr("disconnect", ErrBusy)
	}
	return s.Close()
}
