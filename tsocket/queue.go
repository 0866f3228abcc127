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
	return queueSend(ev, q, sendToCall{d: d, buf: buf, dst: dst})
}

// SendToQueueRecv returns the result of SendToQueueSend, as SendToRecv.
func SendToQueueRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// WritevQueueSend writes iov to s once every request queued before it in q
// has been received (tstream_writev_queue_send), so that writes from many
// callers go out whole and in order, never interleaved.
func WritevQueueSend(ev *tevent.Context, s *Stream, q *tqueue.Queue, iov [][]byte) *tevent.Req[int] {
	return queueSend(ev, q, writevCall{s: s, iov: iov})
}

// WritevQueueRecv returns the result of WritevQueueSend, as WritevRecv.
func WritevQueueRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// ReadvPDUQueueSend reads one PDU from s as ReadvPDUSend does, once every
// request queued before it in q has been received
// (tstream_readv_pdu_queue_send).
func ReadvPDUQueueSend(ev *tevent.Context, s *Stream, q *tqueue.Queue, next NextVectorFunc) *tevent.Req[struct{}] {
	return queueSend(ev, q, readvPDUCall{s: s, next: next})
}

// ReadvPDUQueueRecv returns the result of ReadvPDUQueueSend, as
// ReadvPDURecv.
func ReadvPDUQueueRecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}

// A call is the plain request a queued one runs once it reaches the head
// of its queue: the arguments, and send to start it with them. Holding
// them by value in queued keeps a queued request at the allocations it
// had when each variant had a state type of its own.
type call[T any] interface {
	send(ev *tevent.Context) *tevent.Req[T]
}

// Each variant's call, checked against the constraint queued uses it
// through (which is also how staticcheck sees that send is used).
var (
	_ call[int]      = sendToCall{}
	_ call[int]      = writevCall{}
	_ call[struct{}] = readvPDUCall{}
)

type sendToCall struct {
	d   *Dgram
	buf []byte
	dst Address
}

func (c sendToCall) send(ev *tevent.Context) *tevent.Req[int] {
	return SendToSend(ev, c.d, c.buf, c.dst)
}

type writevCall struct {
	s   *Stream
	iov [][]byte
}

func (c writevCall) send(ev *tevent.Context) *tevent.Req[int] { return WritevSend(ev, c.s, c.iov) }

type readvPDUCall struct {
	s    *Stream
	next NextVectorFunc
}

func (c readvPDUCall) send(ev *tevent.Context) *tevent.Req[struct{}] {
	return ReadvPDUSend(ev, c.s, c.next)
}

// queued is a queued request in flight: req is what the caller holds, c
// the plain request it runs as its subrequest.
type queued[T any, C call[T]] struct {
	req *tevent.Req[T]
	c   C
}

// queueSend queues a request that runs c once it reaches the head of q
// and finishes with c's result.
func queueSend[T any, C call[T]](ev *tevent.Context, q *tqueue.Queue, c C) *tevent.Req[T] {
	req := tevent.NewReq[T](ev)
	st := &queued[T, C]{req: req, c: c}
	q.Add(req, st.trigger)
	return req
}

func (st *queued[T, C]) trigger() {
	subreq := st.c.send(st.req.Context())
	st.req.AddSubreq(subreq)
	subreq.SetCallback(st.sendDone)
}

func (st *queued[T, C]) sendDone(subreq *tevent.Req[T]) {
	v, err := subreq.Recv()
	if st.req.Error(err) {
		return
	}
	st.req.Done(v)
}
