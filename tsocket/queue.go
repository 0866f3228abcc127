package tsocket

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
)

// The queued variants let any number of callers take turns on a socket's
// one write (or read): each request waits in q until it reaches the head,
// then runs the plain request. As tqueue defines it, an entry leaves the
// queue when its request is received, so the next one starts after the
// caller's Recv. Timing out or abandoning a queued request that is already
// writing abandons the write, which may leave part of it on the wire.

// SendToQueueSend sends buf to dst on d once every request queued before it
// in q has been received (tdgram_sendto_queue_send).
func SendToQueueSend(ev *tevent.Context, d *Dgram, q *tqueue.Queue, buf []byte, dst Address) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	st := &sendToQueueState{req: req, d: d, buf: buf, dst: dst}
	q.Add(req, st.trigger)
	return req
}

// SendToQueueRecv returns the result of SendToQueueSend, as SendToRecv.
func SendToQueueRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

type sendToQueueState struct {
	req *tevent.Req[int]
	d   *Dgram
	buf []byte
	dst Address
}

func (st *sendToQueueState) trigger() {
	subreq := SendToSend(st.req.Context(), st.d, st.buf, st.dst)
	st.req.AddSubreq(subreq)
	subreq.SetCallback(st.sendToDone)
}

func (st *sendToQueueState) sendToDone(subreq *tevent.Req[int]) {
	n, err := SendToRecv(subreq)
	if st.req.Error(err) {
		return
	}
	st.req.Done(n)
}

// WritevQueueSend writes iov to s once every request queued before it in q
// has been received (tstream_writev_queue_send), so that writes from many
// callers go out whole and in order, never interleaved.
func WritevQueueSend(ev *tevent.Context, s *Stream, q *tqueue.Queue, iov [][]byte) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	st := &writevQueueState{req: req, s: s, iov: iov}
	q.Add(req, st.trigger)
	return req
}

// WritevQueueRecv returns the result of WritevQueueSend, as WritevRecv.
func WritevQueueRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

type writevQueueState struct {
	req *tevent.Req[int]
	s   *Stream
	iov [][]byte
}

func (st *writevQueueState) trigger() {
	subreq := WritevSend(st.req.Context(), st.s, st.iov)
	st.req.AddSubreq(subreq)
	subreq.SetCallback(st.writevDone)
}

func (st *writevQueueState) writevDone(subreq *tevent.Req[int]) {
	n, err := WritevRecv(subreq)
	if st.req.Error(err) {
		return
	}
	st.req.Done(n)
}

// ReadvPDUQueueSend reads one PDU from s as ReadvPDUSend does, once every
// request queued before it in q has been received
// (tstream_readv_pdu_queue_send).
func ReadvPDUQueueSend(ev *tevent.Context, s *Stream, q *tqueue.Queue, next NextVectorFunc) *tevent.Req[struct{}] {
	req := tevent.NewReq[struct{}](ev)
	st := &readvPDUQueueState{req: req, s: s, next: next}
	q.Add(req, st.trigger)
	return req
}

// ReadvPDUQueueRecv returns the result of ReadvPDUQueueSend, as
// ReadvPDURecv.
func ReadvPDUQueueRecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}

type readvPDUQueueState struct {
	req  *tevent.Req[struct{}]
	s    *Stream
	next NextVectorFunc
}

func (st *readvPDUQueueState) trigger() {
	subreq := ReadvPDUSend(st.req.Context(), st.s, st.next)
	st.req.AddSubreq(subreq)
	subreq.SetCallback(st.readvPDUDone)
}

func (st *readvPDUQueueState) readvPDUDone(subreq *tevent.Req[struct{}]) {
	if st.req.Error(ReadvPDURecv(subreq)) {
		return
	}
	st.req.Done(struct{}{})
}
