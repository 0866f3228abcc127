package tevent

import (
	"fmt"
	"time"
)

// State is where a request is in its life (tevent_req_state).
type State uint8

const (
	// StateInProgress: the request is still running.
	StateInProgress State = iota
	// StateDone: finished successfully (Done).
	StateDone
	// StateError: finished with an error (Error, or Cancel).
	StateError
	// StateTimedOut: its end time passed first (SetEndTime); the error is
	// ErrTimedOut.
	StateTimedOut
	// StateReceived: its result was collected by Recv, or the request was
	// abandoned. Nothing more happens to it.
	StateReceived
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case StateInProgress:
		return "in progress"
	case StateDone:
		return "done"
	case StateError:
		return "error"
	case StateTimedOut:
		return "timed out"
	case StateReceived:
		return "received"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// ReleaseHook is told when a request is released: received by its Recv or
// abandoned. Queues use it to let the next entry go.
type ReleaseHook interface {
	RequestReleased(r Request)
}

// Request is what every Req[T] offers whatever its result type, for code
// that handles requests generically (queues, parents of subrequests).
type Request interface {
	// Context returns the context the request runs on.
	Context() *Context
	// State returns the request's state.
	State() State
	// IsInProgress reports whether the request has not finished.
	IsInProgress() bool
	// HasCallback reports whether a callback has been set.
	HasCallback() bool
	// SetEndTime makes the request fail with ErrTimedOut if it is still in
	// progress at t.
	SetEndTime(t time.Time) bool
	// Cancel asks the request to stop early; see Req.Cancel.
	Cancel() bool
	// Abandon releases the request without calling back; see Req.Abandon.
	Abandon()
	// Abandoned reports whether Abandon was called, which is how a cleanup
	// function running with StateReceived tells an abandoned request
	// (whose result nobody will take) from a received one.
	Abandoned() bool
	// AddReleaseHook registers h to be told once when the request is
	// received or abandoned.
	AddReleaseHook(h ReleaseHook)
}

// Req is an asynchronous request with a result of type T (tevent_req). A
// FooSend function creates it with NewReq, starts the work and returns it;
// the work finishes it with Done or Error; the caller learns of that through
// the callback and collects the result with FooRecv, which calls Recv.
//
// A Req belongs to its context's loop goroutine; none of its methods may be
// called from elsewhere (use Context.Post to reach the loop). Callbacks run
// on the loop goroutine and must not block.
//
// A Req is kept small (96 bytes for a Req[int]) since a server has one in
// flight per connection, idle ones included: what most requests never use
// (an end time, a cancel function, subrequests, more than one release hook)
// lives in a reqExtra allocated on first use.
type Req[T any] struct {
	ev        *Context
	val       T
	err       error
	cb        func(*Req[T])
	cleanupFn func(State)
	hook      ReleaseHook // the first release hook (tqueue sets one)
	x         *reqExtra
	tidx      int32 // index in the context's in-flight list, or -1
	state     State
	cleaned   State // last state the cleanup function ran for
	flags     reqFlags
}

// reqFlags are a request's booleans, in one byte to keep Req small.
type reqFlags uint8

const (
	reqDeferCB   reqFlags = 1 << iota // the callback runs from an immediate
	reqNotified                       // the callback has run
	reqAbandoned                      // Abandon was called
	reqEnded                          // ended by its context's teardown
)

// reqExtra holds the parts of a request that few requests use.
type reqExtra struct {
	endTimer   *Timer
	cancelFn   func() bool
	cancelling bool // cancelFn is running: a Cancel from inside it is refused
	subreqs    []Request
	hooks      []ReleaseHook // release hooks after the first
}

func (r *Req[T]) extra() *reqExtra {
	if r.x == nil {
		r.x = &reqExtra{}
	}
	return r.x
}

// cancelEndTimer stops the end-time timer, if there is one.
func (r *Req[T]) cancelEndTimer() {
	if r.x != nil && r.x.endTimer != nil {
		r.x.endTimer.Cancel()
	}
}

// NewReq creates a request in progress on ev (tevent_req_create).
func NewReq[T any](ev *Context) *Req[T] {
	return &Req[T]{ev: ev, tidx: -1}
}

func (r *Req[T]) setTrackIdx(i int32) { r.tidx = i }
func (r *Req[T]) trackIdx() int32     { return r.tidx }

// endByClose ends a request still in flight when its context is torn down:
// it fails with ErrClosed without calling back, and its cleanup function
// runs so that what it owns is released.
func (r *Req[T]) endByClose() {
	if r.state != StateInProgress || r.flags&reqAbandoned != 0 {
		return
	}
	r.err = ErrClosed
	r.state = StateError
	r.flags |= reqNotified | reqEnded // never called back; Done and Error do nothing
	r.cleanup(StateError)
}

// Context returns the context the request runs on.
func (r *Req[T]) Context() *Context { return r.ev }

// SetCallback sets the function called when the request finishes
// (tevent_req_set_callback). It is called once, on the loop goroutine.
func (r *Req[T]) SetCallback(fn func(*Req[T])) { r.cb = fn }

// HasCallback reports whether a callback has been set.
func (r *Req[T]) HasCallback() bool { return r.cb != nil }

// State returns the request's state.
func (r *Req[T]) State() State { return r.state }

// IsInProgress reports whether the request has not finished yet.
func (r *Req[T]) IsInProgress() bool { return r.state == StateInProgress }

// Done finishes the request successfully with v (tevent_req_done) and runs
// the callback at once, inside this call, unless DeferCallback or Post was
// used. Finishing a request twice is a programming error and panics; on an
// abandoned request, or one its context's teardown ended, Done does nothing.
func (r *Req[T]) Done(v T) {
	if r.flags&(reqAbandoned|reqEnded) != 0 {
		return
	}
	r.mustBeInProgress("Done")
	r.val = v
	r.finish(StateDone)
}

// Error finishes the request with err if err is not nil
// (tevent_req_error) and reports whether it did, so that
//
//	if req.Error(err) {
//		return
//	}
//
// reads as Samba's idiom. The callback runs as for Done. On an abandoned
// request, or one its context's teardown ended, Error only reports err !=
// nil.
func (r *Req[T]) Error(err error) bool {
	if err == nil {
		return false
	}
	if r.flags&(reqAbandoned|reqEnded) != 0 {
		return true
	}
	r.mustBeInProgress("Error")
	r.err = err
	r.finish(StateError)
	return true
}

func (r *Req[T]) mustBeInProgress(op string) {
	if r.state != StateInProgress {
		panic(fmt.Sprintf("tevent: Req.%s on a request that is already %v: a request finishes once", op, r.state))
	}
}

// DeferCallback makes the callback run from an immediate on a later
// iteration instead of inside Done or Error (tevent_req_defer_callback).
func (r *Req[T]) DeferCallback() { r.flags |= reqDeferCB }

// Post is for a Send function that finished its request before returning
// (tevent_req_post): the callback then runs on a later iteration, after the
// caller has had the chance to set it. Used as `return req.Post()`. On a
// request still in progress it defers the callback.
func (r *Req[T]) Post() *Req[T] {
	if r.state == StateInProgress {
		r.flags |= reqDeferCB
		return r
	}
	r.ev.scheduleNotify(r)
	return r
}

// notify runs the callback from an immediate (Post, DeferCallback).
func (r *Req[T]) notify() { r.callCallback() }

func (r *Req[T]) finish(st State) {
	r.state = st
	if r.tidx >= 0 {
		r.ev.untrack(r)
	}
	r.cancelEndTimer()
	r.cleanup(st)
	r.releaseSubreqs()
	if r.flags&reqDeferCB != 0 {
		r.ev.scheduleNotify(r)
		return
	}
	r.callCallback()
}

func (r *Req[T]) callCallback() {
	if r.flags&(reqAbandoned|reqNotified) != 0 || r.cb == nil || r.state == StateInProgress {
		return
	}
	r.flags |= reqNotified
	r.cb(r)
}

func (r *Req[T]) cleanup(st State) {
	if r.cleanupFn == nil || r.cleaned >= st {
		return
	}
	r.cleaned = st
	r.cleanupFn(st)
}

// SetEndTime makes the request fail with ErrTimedOut (state StateTimedOut)
// if it is still in progress at t (tevent_req_set_endtime). Setting it again
// moves the deadline. It reports false if the request has finished.
func (r *Req[T]) SetEndTime(t time.Time) bool {
	if r.state != StateInProgress || r.flags&reqAbandoned != 0 {
		return false
	}
	x := r.extra()
	if x.endTimer != nil {
		x.endTimer.Reset(t)
		return true
	}
	x.endTimer = r.ev.AddTimer(t, r.timedOut)
	return true
}

func (r *Req[T]) timedOut(*Timer, time.Time) {
	if r.state != StateInProgress || r.flags&reqAbandoned != 0 {
		return
	}
	r.err = ErrTimedOut
	r.finish(StateTimedOut)
}

// SetCancelFn sets the function Cancel calls (tevent_req_set_cancel_fn). It
// returns true if it stopped the underlying work; it may finish the request
// itself, otherwise Cancel finishes it with ErrCancelled.
func (r *Req[T]) SetCancelFn(fn func() bool) {
	if fn == nil && r.x == nil {
		return
	}
	r.extra().cancelFn = fn
}

// Cancel asks an in-progress request to stop (tevent_req_cancel). Without a
// cancel function, or when it declines, Cancel returns false and the request
// goes on. A cancelled request fails with ErrCancelled. From another
// goroutine, call it through Context.Post.
func (r *Req[T]) Cancel() bool {
	if r.state != StateInProgress || r.flags&reqAbandoned != 0 || r.x == nil || r.x.cancelFn == nil || r.x.cancelling {
		return false
	}
	r.x.cancelling = true
	ok := r.x.cancelFn()
	r.x.cancelling = false
	if !ok {
		return false
	}
	if r.state == StateInProgress {
		r.err = ErrCancelled
		r.finish(StateError)
	}
	return true
}

// SetCleanupFn sets a function that releases the request's resources
// (tevent_req_set_cleanup_fn). It runs once for each state the request
// reaches after in progress: when it finishes (with StateDone, StateError or
// StateTimedOut) and, last, with StateReceived when it is received or
// abandoned. A result that owns resources (a socket) must not be released
// at StateDone, since the caller is about to receive it; release it at
// StateReceived only if Abandoned reports true.
func (r *Req[T]) SetCleanupFn(fn func(State)) {
	r.cleanupFn = fn
	if fn != nil && r.tidx < 0 && r.state == StateInProgress && r.flags&reqAbandoned == 0 {
		r.ev.track(r)
	}
}

// AddSubreq makes sub a subrequest of r: when r finishes or is abandoned,
// sub is abandoned unless it was already received. This is how an
// abandoned request releases the work it started (talloc's parent-child
// freeing in Samba).
func (r *Req[T]) AddSubreq(sub Request) {
	if sub == nil {
		return
	}
	if r.state != StateInProgress || r.flags&reqAbandoned != 0 {
		sub.Abandon()
		return
	}
	x := r.extra()
	if len(x.subreqs) == cap(x.subreqs) && len(x.subreqs) >= 4 {
		// Forget subrequests already received before growing, so a
		// long-lived request that starts one per message stays bounded
		// by the ones still live.
		live := x.subreqs[:0]
		for _, s := range x.subreqs {
			if s.State() != StateReceived {
				live = append(live, s)
			}
		}
		clear(x.subreqs[len(live):])
		x.subreqs = live
	}
	x.subreqs = append(x.subreqs, sub)
}

func (r *Req[T]) releaseSubreqs() {
	if r.x == nil {
		return
	}
	subs := r.x.subreqs
	r.x.subreqs = nil
	for _, sub := range subs {
		sub.Abandon()
	}
}

// AddReleaseHook registers h to be told once when the request is received
// or abandoned. On a request already released, h is told at once.
func (r *Req[T]) AddReleaseHook(h ReleaseHook) {
	if r.state == StateReceived {
		h.RequestReleased(r)
		return
	}
	if r.hook == nil {
		r.hook = h
		return
	}
	x := r.extra()
	x.hooks = append(x.hooks, h)
}

func (r *Req[T]) release() {
	h := r.hook
	r.hook = nil
	var hs []ReleaseHook
	if r.x != nil {
		hs, r.x.hooks = r.x.hooks, nil
	}
	if h != nil {
		h.RequestReleased(r)
	}
	for _, h := range hs {
		h.RequestReleased(r)
	}
}

// Poll runs the loop until the request has finished (tevent_req_poll): the
// synchronous wrapper. It returns only the loop's errors (ErrNoEvents when
// nothing could finish the request, ErrClosed); the request's own result
// comes from its Recv.
func (r *Req[T]) Poll() error {
	for r.state == StateInProgress && r.flags&reqAbandoned == 0 {
		if err := r.ev.LoopOnce(); err != nil {
			return err
		}
	}
	return nil
}

// Recv returns the request's result and marks it received, running the
// cleanup function with StateReceived and the release hooks. On a request
// still in progress it returns ErrInProgress; received again, it returns the
// same result. FooRecv functions are built on it.
func (r *Req[T]) Recv() (T, error) {
	switch r.state {
	case StateInProgress:
		var zero T
		if r.ev.closed.Load() {
			return zero, ErrClosed // it will never finish now
		}
		return zero, ErrInProgress
	case StateReceived:
		return r.val, r.err
	}
	r.state = StateReceived
	r.cleanup(StateReceived)
	r.release()
	return r.val, r.err
}

// Abandon says the caller no longer wants the request (talloc_free of a
// request in flight in Samba): its end time is cancelled, its subrequests
// are abandoned, its cleanup function runs with StateReceived, its release
// hooks are told, and its callback never runs. Done and Error on it do
// nothing afterwards. Abandoning twice, or after Recv, does nothing.
func (r *Req[T]) Abandon() {
	if r.flags&reqAbandoned != 0 || r.state == StateReceived {
		return
	}
	r.flags |= reqAbandoned
	r.cb = nil
	if r.tidx >= 0 {
		r.ev.untrack(r)
	}
	r.cancelEndTimer()
	r.releaseSubreqs()
	if r.state == StateInProgress {
		r.err = ErrCancelled
	}
	r.state = StateReceived
	r.cleanup(StateReceived)
	r.release()
}

// Abandoned reports whether Abandon was called.
func (r *Req[T]) Abandoned() bool { return r.flags&reqAbandoned != 0 }
