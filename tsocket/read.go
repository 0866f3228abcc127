package tsocket

import (
	"io"

	"github.com/gotevent/gotevent/tevent"
)

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

// beginRead makes rd the read in flight; some says it ends after its
// first bytes.
func (s *Stream) beginRead(rd readState, some bool) {
	s.rd = rd
	s.rdSome, s.rdBytes = some, false
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
	if err := s.reg.use(ev, s.hasWaits() || s.wr.req != nil); err != nil {
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
		case wouldBlock(err):
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
			n, err = sysRead(s.reg.fd, b)
			if !interrupted(err) {
				break
			}
		}
		if err != nil && !wouldBlock(err) {
			err = sysErr("read", err)
		}
		return n, len(b), err
	}
	x := s.extra()
	vec, want := iovecs(x.vec, r.iov, r.idx, r.off)
	x.vec = vec
	for {
		n, err = sysReadv(s.reg.fd, vec)
		if !interrupted(err) {
			break
		}
	}
	clear(vec) // do not keep the caller's buffers alive
	if err != nil && !wouldBlock(err) {
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
