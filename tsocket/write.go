package tsocket

import "github.com/gotevent/gotevent/tevent"

// writeState is the writev in flight.
type writeState struct {
	req *tevent.Req[int]
	iov [][]byte
	idx int
	off int
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
		if e := s.reg.use(ev, s.hasWaits() || s.rd.active()); e != nil {
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
		case wouldBlock(err):
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
			n, err = sysSend(s.reg.fd, b)
			if !interrupted(err) {
				break
			}
		}
		if err != nil && !wouldBlock(err) {
			err = sysErr("send", err)
		}
		return n, len(b), err
	}
	x := s.extra()
	vec, want := iovecs(x.vec, w.iov, w.idx, w.off)
	x.vec = vec
	for {
		n, err = sysSendmsg(s.reg.fd, vec)
		if !interrupted(err) {
			break
		}
	}
	clear(vec)
	if err != nil && !wouldBlock(err) {
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
