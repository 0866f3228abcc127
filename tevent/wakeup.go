package tevent

import "time"

// WakeupSend returns a request that finishes at time at
// (tevent_wakeup_send): a timer as a request, to compose with others or to
// pause inside a composed request. Cancel and Abandon stop the timer.
func WakeupSend(ev *Context, at time.Time) *Req[struct{}] {
	req := NewReq[struct{}](ev)
	t := ev.AddTimer(at, func(*Timer, time.Time) { req.Done(struct{}{}) })
	req.SetCleanupFn(func(State) { t.Cancel() })
	req.SetCancelFn(func() bool { return t.Cancel() })
	return req
}

// WakeupRecv collects the result of WakeupSend: nil, or ErrTimedOut or
// ErrCancelled if the request was given an end time or cancelled.
func WakeupRecv(req *Req[struct{}]) error {
	_, err := req.Recv()
	return err
}
