package tevent

import (
	"fmt"
	"syscall"
)

// CallSend runs fn on target's loop and finishes the returned request on
// ev's loop with fn's result: a request carried to another loop and back
// (Samba's tevent_thread_proxy and threaded immediates, as a request). It
// is how one loop reaches state that another loop owns, such as a key that
// belongs to another loop of a server.
//
// Who runs what, where:
//   - CallSend, CallRecv and every method of the request are called on ev's
//     loop goroutine, as for any request of ev; the callback runs there.
//   - fn runs on target's loop goroutine, as a function posted with
//     target.Post: like any handler of target it may use target and its
//     events freely, must not block, and must not touch ev or anything else
//     that ev's goroutine owns. Its result is handed to ev's goroutine, so
//     target must not keep using memory that the result refers to.
//   - The crossings go through Context.Post only, once each way; CallSend
//     starts no goroutine. Calls from one ev to one target run on target in
//     the order they were sent, and their results reach ev in that order.
//
// The request never finishes inside CallSend, not even when ev and target
// are the same context (fn then runs on a later iteration). While the call
// is in flight it counts as an event of ev, so ev's LoopWait and the
// request's Poll wait for it; it stops counting when its result arrives or
// its request is received or abandoned.
//
// Once CallSend has returned a request in progress, fn runs exactly once,
// whatever then happens to the request on ev:
//   - if target is closed before its loop reaches fn, fn runs during
//     target's Close (Post's contract), on the goroutine tearing target
//     down, with target.Closed() reporting true; its result is delivered
//     as usual, since fn did run;
//   - abandoning the request (Req.Abandon) drops the result when it
//     arrives, and the callback never runs;
//   - an end time (Req.SetEndTime) that passes while fn is pending or
//     running fails the request with ErrTimedOut; the late result is
//     dropped;
//   - Req.Cancel is not supported and returns false: fn cannot be stopped
//     once posted, so to stop waiting for it abandon the request or give it
//     an end time;
//   - if ev is closed before the result arrives, the result is dropped and
//     nothing of the call is left; the request ends as every request in
//     flight at ev's Close does.
//
// A panic in fn is not recovered: it propagates out of target's loop call,
// as from any other handler of target, and the request never finishes (an
// end time, or Abandon, stops ev from waiting for it).
//
// The request fails at once (through Req.Post, so the callback runs on a
// later iteration) and fn never runs when target is closed (ErrClosed, as
// Post returns it), when ev is closed (ErrClosed), or when fn or target is
// nil (an error wrapping syscall.EINVAL).
func CallSend[T any](ev, target *Context, fn func() (T, error)) *Req[T] {
	req := NewReq[T](ev)
	switch {
	case fn == nil:
		req.Error(fmt.Errorf("tevent: CallSend of a nil function: %w", syscall.EINVAL))
		return req.Post()
	case target == nil:
		req.Error(fmt.Errorf("tevent: CallSend to a nil target context: %w", syscall.EINVAL))
		return req.Post()
	case ev.Closed():
		req.Error(ErrClosed)
		return req.Post()
	}
	s := &callState[T]{ev: ev, req: req, fn: fn, held: true}
	s.step = s.next
	if err := target.Post(s.step); err != nil {
		req.Error(err)
		return req.Post()
	}
	holdCall(ev) // before anything can release it: that runs on this goroutine
	req.AddReleaseHook(s)
	return req
}

// CallRecv returns the result of CallSend: fn's value and error, or
// ErrClosed, ErrTimedOut or an EINVAL error as CallSend describes.
func CallRecv[T any](req *Req[T]) (T, error) {
	return req.Recv()
}

// callState is one CallSend in flight. It crosses goroutines twice, and
// each crossing is a Context.Post, which orders what one side wrote before
// posting before what the other side reads:
//
//	ev:     CallSend posts step to target       (fields set before)
//	target: step runs fn, sets val, err, ran    (then posts step to ev)
//	ev:     step finishes req, unless dropped
type callState[T any] struct {
	ev   *Context          // immutable
	req  *Req[T]           // ev's goroutine only
	fn   func() (T, error) // read on target; cleared on ev after the result arrived
	step func()            // s.next, made once: both crossings post it

	val T     // fn's result: written on target, then read on ev
	err error // likewise
	ran bool  // fn has returned: written on target, then read on ev

	held bool // ev counts the call as an event; ev's goroutine only
}

// next is the function posted each way: on target it runs fn and posts
// itself back to ev, where it delivers the result. One function value for
// both saves an allocation per call.
func (s *callState[T]) next() {
	if !s.ran {
		s.run()
		return
	}
	s.deliver()
}

// run is callRun, on target's goroutine.
func (s *callState[T]) run() {
	s.val, s.err = s.fn()
	s.ran = true
	// Post fails only once ev's Close has begun (its waker is closed under
	// the same lock that Post holds): the result has nowhere to go and is
	// dropped with s.
	_ = s.ev.Post(s.step)
}

// deliver is callDone, on ev's goroutine: it finishes the request unless
// it was abandoned or timed out meanwhile, whose late result is dropped.
func (s *callState[T]) deliver() {
	s.fn = nil
	s.release()
	req := s.req
	if !req.IsInProgress() {
		return
	}
	if req.Error(s.err) {
		return
	}
	req.Done(s.val)
}

// RequestReleased stops counting the call as an event of ev once its
// request is received or abandoned: an abandoned call whose fn is still
// running must not keep ev's loop waiting.
func (s *callState[T]) RequestReleased(Request) { s.release() }

func (s *callState[T]) release() {
	if s.held {
		s.held = false
		releaseCall(s.ev)
	}
}

// holdCall and releaseCall make a call in flight count as an event of c,
// as a queued posted function does (hasEvents reads npost), so that a loop
// with nothing else to do waits for the result instead of returning
// ErrNoEvents. Loop goroutine only; after Close the count no longer
// matters.
func holdCall(c *Context)    { c.npost.Add(1) }
func releaseCall(c *Context) { c.npost.Add(-1) }
