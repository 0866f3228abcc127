package tsocket

import (
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
)

// The write engine: one writev in flight per Stream, written by writeStep
// across as many partial writes as the socket needs.

// writeState is the writev in flight.
type writeState struct {
	req *tevent.Req[int] // nil if none
	v   ioVec            // what is left to write
}

// WritevSend starts writing every byte of every buffer in iov to s
// (tstream_writev_send), across as many partial writes as it takes. The
// write is tried at once; if it completes the request finishes through
// Post. The buffers belong to the caller and must not be changed until the
// request has finished. Writes use sendmsg with MSG_NOSIGNAL: a peer that
// went away gives EPIPE or ECONNRESET, never SIGPIPE.
func WritevSend(ev *tevent.Context, s *Stream, iov [][]byte) *tevent.Req[int] {
	req := writevStart(ev, s, iov)
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// writevStart is WritevSend without the Post: a request that finished
// inside the call (written whole at once, or refused) is returned
// finished, its callback never to run, for a caller that takes its result
// at once. The Writer does, so that a flush written in one sendmsg costs
// no immediate and no extra loop turn for a callback with nothing to do.
func writevStart(ev *tevent.Context, s *Stream, iov [][]byte) *tevent.Req[int] {
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
		if e := s.reg.use(ev, s.hasWaits() || s.reading()); e != nil {
			err = s.opErr("writev", e)
		}
	}
	if req.Error(err) {
		return req
	}
	s.wr.req = req
	s.wr.v.set(iov)
	s.wrWait = tevent.FDWrite // until the transport says otherwise
	req.SetCleanupFn(s.cleanupFn)
	s.writeStep()
	return req
}

// WritevRecv returns the number of bytes written (all of them) or the
// error: ErrBusy, ErrEmptyVector, net.ErrClosed, or the errno (EPIPE,
// ECONNRESET, ...) wrapped in an *OpError.
func WritevRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// writeStep writes as much as the socket takes.
func (s *Stream) writeStep() {
	v := &s.wr.v
	for !v.done() {
		n, want, err := s.writeOnce()
		switch {
		case sys.WouldBlock(err):
			s.waitWrite()
			return
		case err != nil:
			s.endWrite(s.opErr("writev", err), false)
			return
		}
		v.advance(n)
		if n < want {
			// The socket buffer is full: wait until it drains.
			s.waitWrite()
			return
		}
	}
	// A transport may hold output of its own (TLS: the rest of a record):
	// the write is done once that is on the socket too.
	switch ok, err := s.tr.flush(); {
	case err != nil:
		s.endWrite(s.opErr("writev", err), false)
	case !ok:
		s.waitWrite()
	default:
		s.endWrite(nil, false)
	}
}

// writeOnce makes one write of the rest of the vector: write when one
// buffer is left, writev otherwise. It returns the bytes written, the
// bytes offered and the transport's error.
func (s *Stream) writeOnce() (n, want int, err error) {
	if x := s.x; x != nil && x.w.rights != nil && x.w.rights == s.wr.req {
		return s.writeRights() // a SendFDsSend: descriptors go with the first bytes
	}
	v := &s.wr.v
	if v.last() {
		b := v.cur()
		n, err = s.tr.write(b)
		return n, len(b), err
	}
	return s.tr.writev(v.iov[v.idx:], v.off)
}

// waitWrite makes the writev in flight wait for the socket.
func (s *Stream) waitWrite() {
	s.wrWait = s.tr.writeWait()
	if err := s.reg.set(s.wants()); err != nil {
		s.endWrite(s.opErr("writev", err), false)
	}
}

// endWrite ends the writev in flight: with the byte count of its vector,
// or with err. The stream forgets it first, so that the callback may
// start the next one at once.
func (s *Stream) endWrite(err error, deferCB bool) {
	req, n := s.wr.req, s.wr.v.total()
	s.wr = writeState{}
	finish(s, "writev", req, n, err, deferCB)
}
