package tsocket

import (
	"io"

	"github.com/gotevent/gotevent/internal/sys"
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
//
// A Stream is laid out to stay small (320 bytes) because a server holds
// one per connection: the state of the read and the write in flight lives
// in it so requests allocate nothing else, and the iovec array for
// multi-buffer calls is allocated only by the first such call.
type Stream struct {
	reg fdReg

	closed  bool
	unix    bool // network "unix", not "tcp"
	rdSome  bool // the read in flight ends after its first bytes
	rdBytes bool // the read in flight has read something (EOF or ErrUnexpectedEOF)

	local, remote Address
	remoteSA      any // unix.Sockaddr from accept, converted on demand

	rd  readState
	wr  writeState
	vec []unix.Iovec // scratch iovec array for multi-buffer calls
	one [1][]byte    // the vector of ReadSomeSend and ReadSomeFuncSend

	cleanupFn func(tevent.State) // s.cleanup, bound once

	waits []*WaitEvent

	// onClose, when set, runs once at the end of the first Close: it is
	// how the Server that accepted the stream learns it is gone.
	onClose func(*Stream)
}

// readState is the read in flight: one of req (ReadvSend, ReadSomeSend),
// pdu (ReadvPDUSend) or fn (ReadSomeFuncSend).
type readState struct {
	req  *tevent.Req[int]
	pdu  *tevent.Req[struct{}]
	fn   *tevent.Req[[]byte]
	next NextVectorFunc
	get  func() []byte
	iov  [][]byte
	idx  int
	off  int
}

func (r *readState) active() bool { return r.req != nil || r.pdu != nil || r.fn != nil }

func (r *readState) inProgress() bool {
	return (r.req != nil && r.req.IsInProgress()) || (r.pdu != nil && r.pdu.IsInProgress()) ||
		(r.fn != nil && r.fn.IsInProgress())
}

// writeState is the writev in flight.
type writeState struct {
	req *tevent.Req[int]
	iov [][]byte
	idx int
	off int
}

func newStream(ev *tevent.Context, fd int, network string) *Stream {
	s := &Stream{unix: network == "unix"}
	s.reg.init(ev, fd, s.onFD)
	s.cleanupFn = s.cleanup
	return s
}

// beginRead makes rd the read in flight; some says it ends after its
// first bytes.
func (s *Stream) beginRead(rd readState, some bool) {
	s.rd = rd
	s.rdSome, s.rdBytes = some, false
}

// network is "tcp" or "unix", for errors.
func (s *Stream) network() string {
	if s.unix {
		return "unix"
	}
	return "tcp"
}

// onFD is the stream's fd handler: it moves the writev and the read on.
func (s *Stream) onFD(_ *tevent.FD, flags tevent.Flags) {
	s.reg.inHandler = true
	if flags&tevent.FDWrite != 0 && s.wr.req != nil {
		s.writeStep()
	}
	if flags&tevent.FDRead != 0 && s.rd.active() && !s.closed {
		// A read that filled its buffer most likely left more behind. If
		// its callback started the next read, make that one now rather
		// than on the next iteration after another wait, as a goroutine
		// reading a net.Conn would; readChain bounds it so that one busy
		// stream cannot hold up the others.
		for range readChain {
			if !s.readStep() || !s.rd.active() || s.closed {
				break
			}
		}
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
	return opError(op, s.network(), s.LocalAddress(), s.RemoteAddress(), err)
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
	s.beginRead(readState{req: req, iov: iov}, false)
	s.rd.idx, s.rd.off = advance(iov, 0, 0, 0)
	req.SetCleanupFn(s.cleanupFn)
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
	s.beginRead(readState{req: req, iov: s.one[:]}, true)
	req.SetCleanupFn(s.cleanupFn)
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

// ReadSomeFuncSend is ReadSomeSend with the buffer supplied late: get is
// called only when the loop reports the socket readable, right before the
// read, so a connection waiting for its next message holds no read buffer
// at all. The callback runs straight after the read, from the loop's fd
// handler, before any other event is handled. That makes one buffer
// shared by every connection of a loop safe, as long as each callback is
// done with the bytes (or takes the buffer over) before it returns. An
// idle connection then costs a few hundred bytes instead of its buffer.
//
// Unlike ReadSomeSend, the read is not tried inside Send: it waits for the
// loop even if data is already there, so that the callback is never
// deferred. get runs on the loop goroutine; it is called again if a read
// finds nothing after all (the earlier buffer was not written to). A nil
// get, or a nil or empty buffer, fails the request with ErrEmptyVector.
// The request finishes as soon as any bytes arrive and counts as the
// stream's one read in flight.
func ReadSomeFuncSend(ev *tevent.Context, s *Stream, get func() []byte) *tevent.Req[[]byte] {
	req := tevent.NewReq[[]byte](ev)
	if err := s.startRead(ev, "read", get == nil); req.Error(err) {
		return req.Post()
	}
	s.beginRead(readState{fn: req, get: get}, true)
	req.SetCleanupFn(s.cleanupFn)
	if err := s.reg.set(s.wants()); err != nil {
		s.finishRead(0, s.opErr("read", err))
		return req.Post()
	}
	return req
}

// ReadSomeFuncRecv returns the bytes ReadSomeFuncSend read (at least one),
// a prefix of the buffer get returned last, or the error: io.EOF if the
// peer closed, ErrBusy for a second read in flight, ErrEmptyVector for a
// nil get or an empty buffer, net.ErrClosed after Close or disconnect, or
// the errno of a failed read wrapped in an *OpError.
func ReadSomeFuncRecv(req *tevent.Req[[]byte]) ([]byte, error) { return req.Recv() }

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

// readChain is how many reads one readiness report of a stream may make
// when each fills its buffer and its callback starts the next.
const readChain = 8

// readStep reads as far as the socket allows. It reports whether the read
// finished with a read that filled everything it asked for, so that more
// data may be waiting.
func (s *Stream) readStep() bool {
	r := &s.rd
	full := false // the last read filled what it asked for
	for {
		if r.fn != nil && r.iov == nil {
			b := r.get()
			if r.fn == nil || s.closed {
				return false // closed or abandoned from inside get
			}
			if len(b) == 0 {
				s.finishRead(0, s.opErr("read", ErrEmptyVector))
				return false
			}
			s.one[0] = b
			r.iov = s.one[:]
		}
		if r.idx >= len(r.iov) {
			if r.pdu == nil {
				s.finishRead(total(r.iov), nil)
				return full
			}
			if !s.nextVector() {
				return full
			}
			continue
		}
		n, want, err := s.readOnce()
		switch {
		case sys.WouldBlock(err):
			if r.fn != nil {
				// Hold no buffer while waiting: get is asked again.
				s.one[0], r.iov = nil, nil
			}
			if err := s.reg.set(s.wants()); err != nil {
				s.finishRead(0, s.opErr("readv", err))
			}
			return false
		case err != nil:
			s.finishRead(0, s.opErr("readv", err))
			return false
		case n == 0:
			if !s.rdBytes {
				s.finishRead(0, io.EOF)
			} else {
				s.finishRead(0, io.ErrUnexpectedEOF)
			}
			return false
		}
		s.rdBytes = true
		full = n == want
		if s.rdSome {
			s.finishRead(n, nil)
			return full
		}
		r.idx, r.off = advance(r.iov, r.idx, r.off, n)
		if n < want {
			// A short read drained the socket: wait rather than make a
			// call that can only say EAGAIN.
			if err := s.reg.set(s.wants()); err != nil {
				s.finishRead(0, s.opErr("readv", err))
			}
			return false
		}
	}
}

// readOnce makes one read into the rest of the vector: read(2) when one
// buffer is left, readv(2) otherwise. It returns the bytes read, the bytes
// asked for, and the error (EAGAIN as is, others wrapped for errors).
func (s *Stream) readOnce() (n, want int, err error) {
	r := &s.rd
	if r.idx == len(r.iov)-1 {
		b := r.iov[r.idx][r.off:]
		for {
			n, err = sys.Read(s.reg.fd, b)
			if !sys.Interrupted(err) {
				break
			}
		}
		if err != nil && !sys.WouldBlock(err) {
			err = sysErr("read", err)
		}
		return n, len(b), err
	}
	vec, want := iovecs(s.vec, r.iov, r.idx, r.off)
	s.vec = vec
	for {
		n, err = sys.Readv(s.reg.fd, vec)
		if !sys.Interrupted(err) {
			break
		}
	}
	clear(vec) // do not keep the caller's buffers alive
	if err != nil && !sys.WouldBlock(err) {
		err = sysErr("readv", err)
	}
	return n, want, err
}

// total is the byte count of a vector.
func total(iov [][]byte) int {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	return n
}

// finishRead ends the read in flight.
func (s *Stream) finishRead(n int, err error) {
	req, pdu, fn := s.rd.req, s.rd.pdu, s.rd.fn
	var got []byte
	if fn != nil && n > 0 {
		got = s.one[0][:n:n]
	}
	s.rd = readState{}
	s.one[0] = nil // do not keep a ReadSomeSend buffer alive
	if !s.closed {
		if e := s.reg.set(s.wants()); e != nil && err == nil {
			err = s.opErr("readv", e)
		}
	}
	switch {
	case pdu != nil:
		if !pdu.Error(err) {
			pdu.Done(struct{}{})
		}
	case fn != nil:
		if !fn.Error(err) {
			fn.Done(got)
		}
	default:
		if !req.Error(err) {
			req.Done(n)
		}
	}
}

// cleanup is every read and write request's cleanup function: it forgets
// a request that ended without us (it timed out, was cancelled or was
// abandoned), whichever of the two it was.
func (s *Stream) cleanup(tevent.State) {
	changed := false
	if s.rd.active() && !s.rd.inProgress() {
		s.rd = readState{}
		s.one[0] = nil
		changed = true
	}
	if s.wr.req != nil && !s.wr.req.IsInProgress() {
		s.wr = writeState{}
		changed = true
	}
	if changed && !s.closed {
		_ = s.reg.set(s.wants()) // lowering interest cannot fail
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
	req.SetCleanupFn(s.cleanupFn)
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
		n, want, err := s.writeOnce()
		switch {
		case sys.WouldBlock(err):
			if err := s.reg.set(s.wants()); err != nil {
				s.finishWrite(s.opErr("writev", err))
			}
			return
		case err != nil:
			s.finishWrite(s.opErr("writev", err))
			return
		}
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

// writeOnce makes one write of the rest of the vector: send(2) when one
// buffer is left, sendmsg(2) otherwise, both with MSG_NOSIGNAL.
func (s *Stream) writeOnce() (n, want int, err error) {
	w := &s.wr
	if w.idx == len(w.iov)-1 {
		b := w.iov[w.idx][w.off:]
		for {
			n, err = sys.Send(s.reg.fd, b)
			if !sys.Interrupted(err) {
				break
			}
		}
		if err != nil && !sys.WouldBlock(err) {
			err = sysErr("send", err)
		}
		return n, len(b), err
	}
	vec, want := iovecs(s.vec, w.iov, w.idx, w.off)
	s.vec = vec
	for {
		n, err = sys.Sendmsg(s.reg.fd, vec)
		if !sys.Interrupted(err) {
			break
		}
	}
	clear(vec)
	if err != nil && !sys.WouldBlock(err) {
		err = sysErr("sendmsg", err)
	}
	return n, want, err
}

func (s *Stream) finishWrite(err error) {
	req, n := s.wr.req, total(s.wr.iov)
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

// failAll fails the requests in flight with err; with deferred callbacks
// when called from Close, so no callback runs inside Close.
func (s *Stream) failAll(err error, deferCB bool) {
	if req, pdu, fn := s.rd.req, s.rd.pdu, s.rd.fn; req != nil || pdu != nil || fn != nil {
		s.rd = readState{}
		s.one[0] = nil
		switch {
		case req != nil:
			fail(req, err, deferCB)
		case pdu != nil:
			fail(pdu, err, deferCB)
		default:
			fail(fn, err, deferCB)
		}
	}
	if req := s.wr.req; req != nil {
		s.wr = writeState{}
		fail(req, err, deferCB)
	}
}

// fail ends req with err, its callback deferred to a later iteration if
// deferCB is set.
func fail[T any](req *tevent.Req[T], err error, deferCB bool) {
	if deferCB {
		req.DeferCallback()
	}
	req.Error(err)
}

// PendingBytes returns how many bytes can be read from s without waiting
// (FIONREAD, tstream_pending_bytes).
func (s *Stream) PendingBytes() (int, error) {
	if s.closed {
		return 0, s.opErr("ioctl", errClosed)
	}
	n, err := sys.PendingBytes(s.reg.fd)
	if err != nil {
		return 0, s.opErr("ioctl", sysErr(sys.PendingBytesCall, err))
	}
	return n, nil
}

// LocalAddress returns the address s is bound to, or nil if it cannot be
// found (after Close).
func (s *Stream) LocalAddress() Address {
	if s.local == nil && !s.closed {
		if sa, err := sys.Getsockname(s.reg.fd); err == nil {
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
			if sa, err := sys.Getpeername(s.reg.fd); err == nil {
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
	if s.onClose != nil {
		defer s.onClose(s)
	}
	s.failAll(s.opErr("close", errClosed), true)
	s.removeWaitEvents()
	s.reg.drop()
	if err := sys.Close(s.reg.fd); err != nil {
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
