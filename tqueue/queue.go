package tqueue

import (
	"fmt"

	"github.com/gotevent/gotevent/tevent"
)

// Queue serializes requests (tevent_queue): of the requests added to it,
// only the one at the head has its trigger run, and the next one is
// triggered only after the head's request has been received or abandoned.
// A new queue is running.
//
// A Queue belongs to the goroutine that runs its context's loop: every
// method, and every method of its entries, is called from there (or before
// the loop first runs). Triggers run on the loop goroutine and must not
// block.
//
// A queue made with [WithLimit] holds at most that many entries: an Add
// past it queues nothing and fails its request with [ErrFull], and
// [BelowSend] lets a producer wait for room.
type Queue struct {
	ev    *tevent.Context // immutable
	name  string          // immutable
	limit int             // most entries held, 0 for no limit; immutable after New

	// head and tail of the doubly linked list of entries, in order added;
	// n counts them, head included.
	head, tail *Entry
	n          int

	running bool

	// runFn is q.runHead, made once in New so scheduling the trigger of the
	// next head allocates nothing. scheduled is true while runFn is queued
	// as an immediate and has not run yet, so it is queued at most once.
	runFn     func()
	scheduled bool

	// below holds the BelowSend requests waiting for Len to fall; nil
	// until the first one waits, so a queue nobody waits on pays one nil
	// check when an entry leaves.
	below *belowList
}

// Option configures a queue made by [New].
type Option func(*Queue)

// WithLimit bounds the queue to n entries, the head included: while it
// holds n, [Queue.Add], [Queue.AddOptimizeEmpty] and [WaitSend] queue
// nothing, return a nil *Entry and fail the request with [ErrFull] (through
// a later turn of the loop, as [tevent.Req.Post], so a callback set after
// the call still runs). Room is made as entries leave, that is as their
// requests are received or abandoned; [BelowSend] waits for it. Len never
// exceeds n.
//
// n == 0 means no limit, the default. A negative n is a programming error:
// New panics.
func WithLimit(n int) Option {
	return func(q *Queue) {
		if n < 0 {
			panic(fmt.Sprintf("tqueue: WithLimit(%d): negative limit", n))
		}
		q.limit = n
	}
}

// New creates a running queue whose triggers run on ev's loop
// (tevent_queue_create), configured by opts. The name is only for the
// caller's diagnostics; see [Queue.Name]. ev must not be nil.
func New(ev *tevent.Context, name string, opts ...Option) *Queue {
	if ev == nil {
		panic("tqueue: New with a nil context")
	}
	q := &Queue{ev: ev, name: name, running: true}
	for _, opt := range opts {
		opt(q)
	}
	q.runFn = q.runHead
	return q
}

// Name returns the name given to New.
func (q *Queue) Name() string { return q.name }

// Len returns how many entries are in the queue, the head included
// (tevent_queue_length). An entry counts from Add until its request is
// received or abandoned.
func (q *Queue) Len() int { return q.n }

// Running reports whether the queue is running: started, or never stopped
// (tevent_queue_running).
func (q *Queue) Running() bool { return q.running }

// Start makes a stopped queue run again (tevent_queue_start): if the head
// has not been triggered, or was re-armed by [Entry.Untrigger], its trigger
// runs from an immediate, on a later turn of the loop. Starting a running
// queue does nothing.
func (q *Queue) Start() {
	if q.running {
		return
	}
	q.running = true
	q.kick()
}

// Stop stops the queue (tevent_queue_stop): no trigger runs until [Queue.Start].
// A head already triggered stays triggered, and its request runs on; when it
// is received the next entry waits for Start. Entries may still be added to
// a stopped queue, and leave it when their requests are received or
// abandoned.
func (q *Queue) Stop() { q.running = false }

// Add appends req to the queue (tevent_queue_add_entry). When the entry
// reaches the head and the queue is running, trigger runs, once, from an
// immediate: never from inside Add, always on a later turn of the loop. The
// trigger starts the work that finishes req.
//
// The entry leaves the queue when req is received (by its Recv) or
// abandoned, whether it was triggered or not; the next head is then
// triggered on a later turn of the loop. So an entry holds the queue until
// its caller has collected the result, not merely until the work is done.
// A request that times out ([tevent.Req.SetEndTime]) or is cancelled while it
// waits finishes with that error, as any request does; its trigger then
// never runs, but its entry stays, holding the queue, until it is received.
//
// A nil trigger makes a blocker: an entry that, once at the head, holds the
// queue until req is received or abandoned, finished by whatever else the
// caller arranges.
//
// On a queue made with [WithLimit] that holds its limit, Add queues
// nothing, returns nil and fails req with [ErrFull]; its callback runs on
// a later turn of the loop, so one set after Add returns still runs. A
// request already finished keeps its own result.
//
// req must belong to the queue's context; Add panics otherwise, since the
// trigger would run on another loop's goroutine. Adding a request that has
// already been received or abandoned returns an entry that is not in the
// queue.
func (q *Queue) Add(req tevent.Request, trigger func()) *Entry {
	return q.add(req, trigger, nil, false)
}

// AddOptimizeEmpty is [Queue.Add], except that when the queue is empty and
// running and req has no callback yet ([tevent.Request.HasCallback]), the
// trigger runs at once, inside this call, saving a turn of the loop
// (tevent_queue_add_optimize_empty). In every other case the trigger runs
// from an immediate, as with Add. At the limit of a [WithLimit] queue it
// refuses req with [ErrFull], as Add does; the queue is not empty then, so
// the pattern below still holds.
//
// The trigger may then finish req before its caller has set a callback, so
// a Send function that uses it ends as Samba's do:
//
//	q.AddOptimizeEmpty(req, trigger)
//	if !req.IsInProgress() {
//		return req.Post()
//	}
//	return req
func (q *Queue) AddOptimizeEmpty(req tevent.Request, trigger func()) *Entry {
	return q.add(req, trigger, nil, true)
}

func (q *Queue) add(req tevent.Request, trigger func(), wait *tevent.Req[struct{}], direct bool) *Entry {
	if req == nil {
		panic("tqueue: Add of a nil request")
	}
	if ev := req.Context(); ev != q.ev {
		panic(fmt.Sprintf("tqueue: Add to queue %q of a request on another context", q.name))
	}
	if q.limit > 0 && q.n >= q.limit && req.State() != tevent.StateReceived {
		refuse(req, ErrFull)
		return nil
	}
	e := &Entry{q: q, req: req, trigger: trigger, wait: wait}
	// A blocker has nothing to trigger: it counts as triggered from the
	// start, so the queue waits for its release (as Samba's does).
	e.triggered = trigger == nil && wait == nil
	if req.State() == tevent.StateReceived {
		return e // released already: it never joins the queue
	}
	e.prev = q.tail
	if q.tail != nil {
		q.tail.next = e
	} else {
		q.head = e
	}
	q.tail = e
	q.n++
	e.linked = true
	req.AddReleaseHook(e)

	if direct && q.head == e && q.running && !e.triggered &&
		!req.HasCallback() && req.IsInProgress() && !q.ev.Closed() {
		e.triggered = true
		e.fire()
		return e
	}
	q.kick()
	return e
}

// failer is what every [tevent.Req] offers beyond [tevent.Request]: enough
// to fail a request of any result type from a later turn of the loop.
type failer interface {
	DeferCallback()
	Error(err error) bool
}

// refuse fails req with err, its callback deferred to a later turn as Post
// would, so that a callback set after Add returns still runs. A request
// already finished keeps its result.
func refuse(req tevent.Request, err error) {
	if !req.IsInProgress() {
		return
	}
	f, ok := req.(failer)
	if !ok {
		panic(fmt.Sprintf("tqueue: cannot refuse a %T: it has no Error and DeferCallback methods", req))
	}
	f.DeferCallback()
	f.Error(err)
}

// kick schedules the trigger of the head, if it is due and not already
// scheduled. After the context is closed ScheduleImmediate does nothing, so
// no trigger runs then.
func (q *Queue) kick() {
	if !q.running || q.head == nil || q.head.triggered || q.scheduled {
		return
	}
	q.scheduled = true
	q.ev.ScheduleImmediate(q.runFn)
}

// runHead is the immediate that triggers the head. Everything may have
// changed since it was scheduled, so it checks again.
func (q *Queue) runHead() {
	q.scheduled = false
	e := q.head
	if !q.running || e == nil || e.triggered {
		return
	}
	// Set before the trigger runs, so that Untrigger inside the trigger
	// re-arms it and a re-entrant kick does not schedule it again.
	e.triggered = true
	e.fire()
}

// remove unlinks e and, if it was the head, lets the next entry go.
func (q *Queue) remove(e *Entry) {
	wasHead := q.head == e
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		q.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		q.tail = e.prev
	}
	e.prev, e.next = nil, nil
	e.linked = false
	q.n--
	if q.below != nil {
		q.below.lenFell(q)
	}
	if wasHead {
		q.kick()
	}
}

// Entry is one request's place in a [Queue] (tevent_queue_entry), returned
// by [Queue.Add]. It belongs to the queue's loop goroutine, as the queue
// does. It leaves the queue when its request is received or abandoned.
type Entry struct {
	q          *Queue // immutable
	prev, next *Entry // neighbours while linked
	req        tevent.Request
	trigger    func()                // nil for a blocker or a WaitSend entry
	wait       *tevent.Req[struct{}] // the WaitSend request, finished when triggered
	triggered  bool                  // the trigger ran (or is not due: blocker, finished request)
	linked     bool                  // in q's list
}

// fire runs the entry's trigger, unless its request finished (timed out,
// cancelled) while waiting: that request is received like any other, and
// its entry holds the queue until then.
func (e *Entry) fire() {
	if !e.req.IsInProgress() {
		return
	}
	if e.wait != nil {
		e.wait.Done(struct{}{})
		return
	}
	e.trigger()
}

// RequestReleased implements [tevent.ReleaseHook]: the entry's request calls
// it when it is received or abandoned, and the entry leaves the queue; if it
// was the head, the next entry is triggered on a later turn of the loop.
// Calls for any other request, or for an entry that has left, do nothing.
func (e *Entry) RequestReleased(r tevent.Request) {
	if !e.linked || r != e.req {
		return
	}
	e.q.remove(e)
}

// Untrigger re-arms the head of a stopped queue so that its trigger runs
// again when the queue is started (tevent_queue_entry_untrigger). It is
// meant for a trigger that finds it cannot make progress yet: it stops the
// queue, untriggers its own entry and returns; whoever later calls
// [Queue.Start] gets it triggered again.
//
// Untrigger reports whether it re-armed the entry. It does nothing and
// returns false when the queue is running, when e is not the head or has
// left the queue, and for a blocker (which has no trigger to run).
func (e *Entry) Untrigger() bool {
	q := e.q
	if q.running || !e.linked || q.head != e || (e.trigger == nil && e.wait == nil) {
		return false
	}
	e.triggered = false
	return true
}
