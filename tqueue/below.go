package tqueue

import (
	"container/list"
	"fmt"
	"syscall"

	"github.com/gotevent/gotevent/tevent"
)

// BelowSend returns a request that finishes once q holds n entries or
// fewer, q.Len() <= n: how a producer waits for room in a queue made with
// [WithLimit] before it adds again, with n one less than the limit.
//
// If q.Len() <= n already, the request is finished at once and its
// callback runs on a later turn of the loop (through [tevent.Req.Post]).
// Otherwise it waits while entries leave, and finishes from an immediate on
// the turn after Len reaches n, never inside the Recv or Abandon that made
// room. A waiting request calls back only while q.Len() <= n holds: if an
// earlier callback added entries again, the next waiter waits on.
//
// Any number of requests may wait on one queue, with any thresholds. As Len
// falls one entry at a time it reaches the highest threshold first, so they
// finish highest threshold first, and in the order made among equal ones.
// A waiting request does not count in Len.
//
// A waiting request may be given an end time ([tevent.Req.SetEndTime]) or
// be cancelled ([tevent.Req.Cancel]): it then fails with
// [tevent.ErrTimedOut] or [tevent.ErrCancelled] and the queue forgets it.
// One abandoned while it waits is forgotten too, and never calls back.
//
// A negative n fails the request with an error wrapping syscall.EINVAL; on
// a closed context it fails with [tevent.ErrClosed]; both through Post. A
// request still waiting when the context is closed never calls back, since
// nothing runs on a closed context; abandoning it stays safe.
//
// ev must be q's context; BelowSend panics otherwise, since the callback
// would run on another loop's goroutine.
func BelowSend(ev *tevent.Context, q *Queue, n int) *tevent.Req[struct{}] {
	if ev != q.ev {
		panic(fmt.Sprintf("tqueue: BelowSend on queue %q from another context", q.name))
	}
	req := tevent.NewReq[struct{}](ev)
	switch {
	case n < 0:
		req.Error(fmt.Errorf("tqueue: BelowSend(%d) on queue %q: negative length: %w", n, q.name, syscall.EINVAL))
		return req.Post()
	case ev.Closed():
		req.Error(tevent.ErrClosed)
		return req.Post()
	case q.n <= n:
		req.Done(struct{}{})
		return req.Post()
	}
	if q.below == nil {
		q.below = &belowList{}
		q.below.wakeFn = q.wakeBelow
	}
	w := &waiter{list: q.below, req: req, n: n}
	q.below.insert(w)
	req.SetCleanupFn(w.cleanup)
	req.SetCancelFn(cancelWaiter)
	return req
}

// BelowRecv receives a request made by [BelowSend]. It returns nil if the
// queue came down to the threshold, the error the request failed with
// instead ([tevent.ErrTimedOut], [tevent.ErrCancelled], [tevent.ErrClosed],
// or one wrapping syscall.EINVAL for a negative threshold), or
// [tevent.ErrInProgress] while it still waits.
func BelowRecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}

// cancelWaiter is every waiter's cancel function: nothing is in flight, so
// a waiting request can always stop; its cleanup unlinks it.
func cancelWaiter() bool { return true }

// waiter is one BelowSend request waiting on a queue.
type waiter struct {
	list *belowList            // immutable
	req  *tevent.Req[struct{}] // immutable
	n    int                   // finishes once Len <= n; immutable
	elem *list.Element         // its place in list.waiters, nil once out
}

// cleanup is the request's cleanup function: a request that finished in
// any way (done, timed out, cancelled) or was abandoned leaves the list.
func (w *waiter) cleanup(tevent.State) { w.list.unlink(w) }

// belowList holds a queue's waiting BelowSend requests.
type belowList struct {
	// waiters holds *waiter in the order they are to finish: highest
	// threshold first, equal thresholds in the order they came.
	waiters list.List

	// wakeFn is the queue's wakeBelow, made once; scheduled is true while
	// it is queued as an immediate and has not finished running.
	wakeFn    func()
	scheduled bool
}

// insert puts w after every waiter whose threshold is w.n or more,
// searching from the back, where a waiter usually goes when all wait for
// the same room.
func (l *belowList) insert(w *waiter) {
	at := l.waiters.Back()
	for at != nil && at.Value.(*waiter).n < w.n {
		at = at.Prev()
	}
	if at == nil {
		w.elem = l.waiters.PushFront(w)
	} else {
		w.elem = l.waiters.InsertAfter(w, at)
	}
}

// unlink takes w out of the list, if it is in it.
func (l *belowList) unlink(w *waiter) {
	if w.elem != nil {
		l.waiters.Remove(w.elem)
		w.elem = nil
	}
}

// first returns the waiter to finish next, or nil.
func (l *belowList) first() *waiter {
	if e := l.waiters.Front(); e != nil {
		return e.Value.(*waiter)
	}
	return nil
}

// lenFell is told when an entry has left q: once Len is down to the first
// waiter's threshold, the waiters are finished from an immediate.
func (l *belowList) lenFell(q *Queue) {
	if w := l.first(); l.scheduled || w == nil || q.n > w.n {
		return
	}
	l.scheduled = true
	q.ev.ScheduleImmediate(l.wakeFn)
}

// wakeBelow is the immediate that finishes, in order, the waiters whose
// threshold Len has reached. Each is checked just before it finishes, since
// the callbacks run inside Done and may add entries (the rest then wait
// on), receive some, or wait again; a callback that closes the context
// stops it.
func (q *Queue) wakeBelow() {
	l := q.below
	for w := l.first(); w != nil && q.n <= w.n && !q.ev.Closed(); w = l.first() {
		l.unlink(w)
		if w.req.IsInProgress() { // always, unless its cleanup was replaced
			w.req.Done(struct{}{})
		}
	}
	l.scheduled = false
}
