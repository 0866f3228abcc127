package tqueue

import "github.com/gotevent/gotevent/tevent"

// WaitSend joins q and finishes when it reaches the head
// (tevent_queue_wait_send). Its entry then stays at the head, holding the
// queue, until the request is received by [WaitRecv] or abandoned, which
// makes it a lock on whatever the queue guards:
//
//	req := tqueue.WaitSend(ev, q)
//	req.SetCallback(func(req *tevent.Req[struct{}]) {
//		// q is ours until WaitRecv: do the work, then
//		err := tqueue.WaitRecv(req) // unlock
//		...
//	})
//
// The request may take an end time ([tevent.Req.SetEndTime]); one that times
// out, or is cancelled, while it waits finishes with that error and also
// holds the queue until received. On a queue made with [WithLimit] that
// holds its limit, the request joins nothing and fails with [ErrFull]
// instead, on a later turn of the loop. ev must be q's context.
func WaitSend(ev *tevent.Context, q *Queue) *tevent.Req[struct{}] {
	req := tevent.NewReq[struct{}](ev)
	q.add(req, nil, req, false)
	return req
}

// WaitRecv receives a request made by [WaitSend], releasing its place in the
// queue: the next entry is triggered on a later turn of the loop. It returns
// nil if the request reached the head, or the error it finished with
// instead ([tevent.ErrTimedOut], [tevent.ErrCancelled], [ErrFull]), or
// [tevent.ErrInProgress] (without releasing anything) while it still waits.
func WaitRecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}
