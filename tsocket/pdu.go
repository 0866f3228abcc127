package tsocket

import "github.com/gotevent/gotevent/tevent"

// NextVectorFunc tells ReadvPDUSend what to read next. It is called first
// inside ReadvPDUSend and then each time the vector it returned last has
// been filled completely. It returns the buffers to fill next (owned by the
// caller), an empty vector when the PDU is complete, or an error that fails
// the request. A vector of buffers that are all empty is a mistake (the
// end of the PDU is the empty vector): it fails the request with
// ErrEmptyVector, which matches syscall.EINVAL.
//
// next runs on the loop goroutine and must not block. It may close s; the
// request then fails with net.ErrClosed.
type NextVectorFunc func(s *Stream) ([][]byte, error)

// ReadvPDUSend reads one protocol data unit from s (tstream_readv_pdu_send):
// next says how many bytes to read, typically a fixed header first and then
// the body whose length the header gave, and the engine fills each vector
// completely before asking again. The request finishes when next returns an
// empty vector. A length-prefixed or line protocol is split into PDUs this
// way without extra copies. It counts as the stream's one read in flight.
func ReadvPDUSend(ev *tevent.Context, s *Stream, next NextVectorFunc) *tevent.Req[struct{}] {
	req := tevent.NewReq[struct{}](ev)
	if err := s.startRead(ev, "readv", next == nil); req.Error(err) {
		return req.Post()
	}
	s.rd.kinds.pdu = readPDU{req: req, next: next}
	s.beginRead(&s.rd.kinds.pdu)
	req.SetCleanupFn(s.cleanupFn)
	if s.rd.kinds.pdu.vector(s) {
		s.readStepOrWait()
	}
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// ReadvPDURecv returns nil once a whole PDU has been read into the caller's
// buffers, or the error: the one next returned, io.EOF if the peer closed
// before the first byte of the PDU, io.ErrUnexpectedEOF if it closed
// part-way, ErrBusy, net.ErrClosed, or a wrapped errno.
func ReadvPDURecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}

// readPDU is a ReadvPDUSend: next gives each vector in turn, and the
// request ends when it gives an empty one.
type readPDU struct {
	req  *tevent.Req[struct{}]
	next NextVectorFunc
}

func (r *readPDU) op() string { return "readv" }

// vector asks next for the vector to fill next.
func (r *readPDU) vector(s *Stream) bool {
	req := r.req
	iov, err := r.next(s)
	switch {
	case r.req != req || s.closed:
		return false // closed or abandoned from inside next
	case err != nil:
		endRead(s, req, struct{}{}, err, false) // next's own error, as it is
		return false
	case len(iov) == 0:
		endRead(s, req, struct{}{}, nil, false)
		return false
	}
	s.rd.v.set(iov)
	if s.rd.v.done() {
		// Buffers but no bytes: next should have ended the PDU with an
		// empty vector. Taking it as filled would ask next again at
		// once, for ever (Samba's tstream_readv_pdu fails it the same).
		endRead(s, req, struct{}{}, s.opErr(r.op(), ErrEmptyVector), false)
		return false
	}
	return true
}

func (r *readPDU) got(*Stream, int) bool { return true }
func (r *readPDU) wait(*Stream)          {}
func (r *readPDU) inProgress() bool      { return r.req.IsInProgress() }

func (r *readPDU) fail(s *Stream, err error, deferCB bool) {
	endRead(s, r.req, struct{}{}, err, deferCB)
}
