package tevent

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotevent/gotevent/internal/poller"
)

// Option configures NewContext.
type Option func(*options)

type options struct {
	backend string
	clock   Clock
	trace   func(TracePoint)
	workers int
}

// WithBackend selects the readiness backend: "epoll" (the default on Linux)
// or "poll". Backends lists what this platform offers.
func WithBackend(name string) Option { return func(o *options) { o.backend = name } }

// WithClock makes the loop read time from c. With a *FakeClock the loop
// never sleeps for a timer: when nothing else is ready it moves the fake
// time to the earliest deadline at once.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithTrace calls fn at each TracePoint of every loop iteration, on the loop
// goroutine. fn must not block.
func WithTrace(fn func(TracePoint)) Option { return func(o *options) { o.trace = fn } }

// WithAsyncWorkers sets how many goroutines the context's async job pool
// (QueueAsyncJob) may run at once; the default is GOMAXPROCS. The pool starts
// no goroutine until the first job is queued.
func WithAsyncWorkers(n int) Option { return func(o *options) { o.workers = n } }

// Backends lists the backends WithBackend accepts here, the default first.
func Backends() []string { return poller.Backends() }

// Context is an event context: the fd, timer, immediate and signal events of
// one event loop, and the requests that run on it (tevent_context).
//
// A Context belongs to the goroutine that runs its loop. Every method is
// called from that goroutine, or before the loop first runs, except Post,
// Close and ScheduleEventAndDispatch, which are safe from any goroutine.
// Handlers never run concurrently with each other, and may add and remove
// any event, including their own. Many contexts may run at once, one per
// goroutine.
type Context struct {
	poller  poller.Poller
	waker   *poller.Waker
	wakeFd  int32
	backend string
	clock   Clock
	fake    *FakeClock
	trace   func(TracePoint)
	epoch   time.Time // timer keys are nanoseconds since epoch

	// fd events, indexed by fd number; owned by the loop goroutine.
	fds    []*FD
	nfds   int
	gen    uint32
	events []poller.Event

	timers timerHeap
	tseq   uint64

	imm    []immediate // immediates queued for the next iteration
	immRun []immediate // the batch being run (kept to reuse its array)

	signals    []*Signal
	sigRun     []*Signal
	sigPending atomic.Bool

	// mu guards posted, closed transitions, depth and teardown state.
	mu       sync.Mutex
	cond     sync.Cond
	posted   []func()
	postRun  []func()
	npost    atomic.Int32
	wakeSig  atomic.Uint32 // 1 while a wake-up is written and not yet consumed
	closed   atomic.Bool
	depth    int  // nesting of loop calls in progress
	tearing  bool // teardown started
	torn     bool // teardown finished
	tearG    uint64
	owner    atomic.Uint64
	onClose  []func()
	dispatch uint64 // iterations run; for tests and tracing

	// running holds the batches of posted functions being run, outermost
	// first (a loop nested in a posted function runs its own batch), so
	// that a Close from inside one of them runs the rest of every batch
	// before it returns. Loop goroutine only.
	running []postBatch
	nested  int // iterations in progress: more than one inside a nested loop

	asyncWorkers int // size of the async job pool, from WithAsyncWorkers
	async        *asyncPool
}

// NewContext creates an event context. It opens the backend's descriptor and
// a wake-up descriptor, both non-blocking and close-on-exec; Close releases
// them.
func NewContext(opts ...Option) (*Context, error) {
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	p, err := poller.New(o.backend)
	if err != nil {
		return nil, fmt.Errorf("tevent: %w", err)
	}
	w, err := poller.NewWaker()
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("tevent: %w", err)
	}
	if err := p.Add(w.Fd(), 0, poller.In); err != nil {
		w.Close()
		p.Close()
		return nil, fmt.Errorf("tevent: %w", err)
	}
	c := &Context{
		poller:  p,
		waker:   w,
		wakeFd:  int32(w.Fd()),
		backend: p.Name(),
		clock:   o.clock,
		trace:   o.trace,
		events:  make([]poller.Event, 128),

		asyncWorkers: o.workers,
	}
	if c.asyncWorkers <= 0 {
		c.asyncWorkers = runtime.GOMAXPROCS(0)
	}
	if c.clock == nil {
		c.clock = systemClock{}
	}
	c.fake, _ = c.clock.(*FakeClock)
	c.epoch = c.clock.Now()
	c.cond.L = &c.mu
	return c, nil
}

// Backend returns the name of the backend in use.
func (c *Context) Backend() string { return c.backend }

// Now returns the context's clock reading.
func (c *Context) Now() time.Time { return c.clock.Now() }

// ScheduleImmediate queues fn to run on the next loop iteration, before
// timers and fd events. Immediates run in the order queued; one queued while
// immediates are running waits for the next iteration. After Close it does
// nothing.
func (c *Context) ScheduleImmediate(fn func()) {
	if fn == nil || c.closed.Load() {
		return
	}
	c.imm = append(c.imm, immediate{fn: fn})
}

// immediate is one queued immediate: a function, or a request whose
// callback is due. Requests are queued as an interface holding the
// pointer, which costs no allocation, where a method value would.
type immediate struct {
	fn  func()
	req notifier
}

type notifier interface{ notify() }

func (c *Context) scheduleNotify(n notifier) {
	if c.closed.Load() {
		return
	}
	c.imm = append(c.imm, immediate{req: n})
}

// Post queues fn to run on the loop goroutine and wakes the loop. It is safe
// to call from any goroutine. It returns ErrClosed once Close has begun; a
// function for which Post returned nil always runs, at the latest during
// Close, and never after Close has returned.
//
// A queued function counts as an event, but one not yet posted does not: a
// loop waiting for other goroutines to post needs some other event (a
// listener, a watchdog timer) or LoopWait returns at once.
func (c *Context) Post(fn func()) error {
	if fn == nil {
		return errors.New("tevent: Post of a nil function")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return ErrClosed
	}
	if err := c.wakeLocked(); err != nil {
		return err // not queued: an error from Post means fn will not run
	}
	c.posted = append(c.posted, fn)
	c.npost.Add(1)
	return nil
}

// wakeLocked writes the wake-up descriptor unless a wake-up is already
// pending. c.mu is held, so the descriptor cannot be closed under us.
func (c *Context) wakeLocked() error {
	if c.wakeSig.CompareAndSwap(0, 1) {
		if err := c.waker.Wake(); err != nil {
			c.wakeSig.Store(0)
			return fmt.Errorf("tevent: wake loop: %w", err)
		}
	}
	return nil
}

// wake wakes the loop from any goroutine; after Close it does nothing.
func (c *Context) wake() {
	c.mu.Lock()
	if !c.closed.Load() {
		_ = c.wakeLocked() // the only failure is a closed waker, which Close prevents
	}
	c.mu.Unlock()
}

// runPosted consumes the wake-up and runs the functions posted so far.
func (c *Context) runPosted() (bool, error) {
	if err := c.waker.Drain(); err != nil {
		return false, fmt.Errorf("tevent: drain wake-up: %w", err)
	}
	// Clear the flag before taking the queue: a Post that lands after we
	// took it sees 0 and writes a fresh wake-up.
	c.wakeSig.Store(0)
	outer := len(c.running) == 0
	c.mu.Lock()
	batch := c.posted
	if outer {
		c.posted = c.postRun[:0]
	} else {
		// A loop nested in a posted function: the outer call is still
		// running from the array postRun would hand back, so new posts
		// must not go there.
		c.posted = nil
	}
	c.mu.Unlock()
	k := len(c.running)
	c.running = append(c.running, postBatch{fns: batch})
	c.runBatch(k)
	c.running = c.running[:k]
	if outer {
		c.postRun = batch[:0]
	}
	return len(batch) > 0, nil
}

// postBatch is a batch of posted functions and how far it has been run.
type postBatch struct {
	fns  []func()
	next int
}

// runBatch runs what is left of c.running[k]. A function that closes the
// context runs the rest from inside Close (teardown), so the loop finds
// nothing left when it returns.
func (c *Context) runBatch(k int) {
	for {
		b := &c.running[k] // nested calls may move the slice
		if b.next >= len(b.fns) {
			return
		}
		fn := b.fns[b.next]
		b.fns[b.next] = nil
		b.next++
		c.npost.Add(-1)
		fn()
	}
}

// hasEvents reports whether anything could still make the loop run a handler.
func (c *Context) hasEvents() bool {
	return c.nfds > 0 || len(c.timers) > 0 || len(c.imm) > 0 ||
		len(c.signals) > 0 || c.npost.Load() > 0
}

// enter marks a loop call as running. refresh records the calling goroutine
// as the owner, which Close uses to tell a call from inside a handler.
func (c *Context) enter(refresh bool) error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return ErrClosed
	}
	c.depth++
	c.mu.Unlock()
	if refresh || c.owner.Load() == 0 {
		c.owner.Store(goid())
	}
	return nil
}

// exit ends a loop call; the outermost one finishes a Close requested from
// another goroutine.
func (c *Context) exit(blocking bool) {
	c.mu.Lock()
	c.depth--
	if blocking && c.depth == 0 {
		c.owner.Store(0)
	}
	if c.depth == 0 && c.closed.Load() && !c.tearing {
		c.tearing = true
		c.tearG = c.owner.Load()
		c.mu.Unlock()
		c.teardown()
		return
	}
	c.mu.Unlock()
}

// LoopOnce waits for and runs at least one event: one iteration runs pending
// signals, the immediates queued before it started, due timers, then every
// fd that one wait reported ready, each once. It returns ErrNoEvents when
// nothing is registered and ErrClosed after Close.
func (c *Context) LoopOnce() error {
	if err := c.enter(false); err != nil {
		return err
	}
	err := c.loopOnce(nil)
	c.exit(false)
	return err
}

// LoopWait runs the loop until no events remain, or until the context is
// closed while it runs, and then returns nil. Called on a context already
// closed, it returns ErrClosed.
func (c *Context) LoopWait() error {
	if err := c.enter(true); err != nil {
		return err
	}
	defer c.exit(true)
	for {
		switch err := c.loopOnce(nil); err {
		case nil:
		case ErrNoEvents, ErrClosed:
			return nil
		default:
			return err
		}
	}
}

// LoopUntil runs the loop until done returns true; done is checked before
// each iteration. It returns ErrNoEvents if nothing is left to run before
// done is true, and ErrClosed if the context is closed first.
func (c *Context) LoopUntil(done func() bool) error {
	if err := c.enter(true); err != nil {
		return err
	}
	defer c.exit(true)
	for !done() {
		if err := c.loopOnce(nil); err != nil {
			return err
		}
	}
	return nil
}

// Run runs the loop until ctx is done (returning ctx.Err()), or until no
// events remain or the context is closed while it runs (returning nil). A
// blocked wait is woken when ctx is done. Called on a context already
// closed, it returns ErrClosed.
func (c *Context) Run(ctx context.Context) error {
	if err := c.enter(true); err != nil {
		return err
	}
	defer c.exit(true)
	stop := context.AfterFunc(ctx, c.wake)
	defer stop()
	stopped := func() bool { return ctx.Err() != nil }
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		switch err := c.loopOnce(stopped); err {
		case nil:
		case ErrNoEvents, ErrClosed:
			return nil
		default:
			return err
		}
	}
}

// loopOnce runs iterations until one runs a handler, or stop says to give up.
func (c *Context) loopOnce(stop func() bool) error {
	for {
		if c.closed.Load() {
			return ErrClosed
		}
		if !c.hasEvents() {
			return ErrNoEvents
		}
		ran, err := c.iterate()
		if err != nil {
			return err
		}
		if ran {
			return nil
		}
		if stop != nil && stop() {
			return nil
		}
	}
}

func (c *Context) traceAt(p TracePoint) {
	if c.trace != nil {
		c.trace(p)
	}
}

// iterate runs one iteration and reports whether any handler ran.
func (c *Context) iterate() (bool, error) {
	c.dispatch++
	c.traceAt(TraceBeforeLoopOnce)
	defer c.traceAt(TraceAfterLoopOnce)
	// A loop nested inside a handler (Poll in a callback) must not reuse
	// the buffers the outer iteration is still walking through.
	c.nested++
	defer func() { c.nested-- }()
	ran := false
	if c.sigPending.Load() {
		ran = c.runSignals() || ran
	}
	if len(c.imm) > 0 && !c.closed.Load() {
		ran = c.runImmediates() || ran
	}
	// The clock is read only when there are timers: time.Now is a
	// noticeable share of a busy loop that has none.
	var now time.Time
	if len(c.timers) > 0 && !c.closed.Load() {
		now = c.clock.Now()
		ran = c.runTimers(now) || ran
	}
	if c.closed.Load() {
		return ran, nil
	}
	timeout := 0
	if !ran && len(c.imm) == 0 && !c.sigPending.Load() {
		if len(c.timers) > 0 && now.IsZero() {
			now = c.clock.Now()
		}
		timeout = c.timeout(now)
		if c.fake != nil && timeout != 0 && len(c.timers) > 0 {
			timeout = 0 // a fake clock never sleeps for a timer
		}
	}
	n := 0
	var events []poller.Event
	// Something already ran and no descriptor could be ready: skip the
	// syscall. Otherwise look, so busy immediates never starve fds.
	if !ran || c.nfds > 0 || c.wakeSig.Load() != 0 {
		c.traceAt(TraceBeforeWait)
		events = c.events
		if c.nested > 1 {
			events = make([]poller.Event, 16)
		}
		var err error
		n, err = c.poller.Wait(events, timeout)
		c.traceAt(TraceAfterWait)
		if err != nil {
			return ran, fmt.Errorf("tevent: %w", err)
		}
	}
	if n > 0 {
		fdRan, err := c.dispatchFDs(events[:n])
		if err != nil {
			return ran, err
		}
		ran = ran || fdRan
	}
	if !ran && len(c.timers) > 0 && !c.closed.Load() {
		now = c.clock.Now()
		if c.fake != nil && n == 0 {
			c.fake.Set(c.timeAt(c.timers[0].key))
			now = c.clock.Now()
		}
		ran = c.runTimers(now)
	}
	return ran, nil
}

// timeout is the wait in milliseconds until the earliest timer, rounded up
// so the loop never wakes early and spins; -1 without timers.
func (c *Context) timeout(now time.Time) int {
	if len(c.timers) == 0 {
		return -1
	}
	d := time.Duration(c.timers[0].key - c.key(now))
	if d <= 0 {
		return 0
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	if ms > 1<<30 {
		ms = 1 << 30
	}
	return int(ms)
}

func (c *Context) runImmediates() bool {
	batch := c.imm
	if c.nested > 1 {
		c.imm = nil // the outer batch may still be running from immRun
	} else {
		c.imm = c.immRun[:0]
	}
	for i, im := range batch {
		batch[i] = immediate{}
		if c.closed.Load() {
			continue
		}
		if im.req != nil {
			im.req.notify()
		} else {
			im.fn()
		}
	}
	if c.nested == 1 {
		c.immRun = batch[:0]
	}
	return len(batch) > 0
}

func (c *Context) dispatchFDs(events []poller.Event) (bool, error) {
	ran := false
	for i := range events {
		if c.closed.Load() {
			break
		}
		e := events[i]
		if e.Fd == c.wakeFd && e.Tag == 0 {
			postRan, err := c.runPosted()
			if err != nil {
				return ran, err
			}
			ran = ran || postRan
			continue
		}
		if int(e.Fd) >= len(c.fds) {
			continue
		}
		fde := c.fds[e.Fd]
		// A registration removed (or removed and replaced on a reused fd
		// number) by an earlier handler of this iteration is dropped here.
		if fde == nil || fde.gen != e.Tag {
			continue
		}
		flags := deliver(e.Ready, fde.flags)
		if flags == 0 {
			continue
		}
		ran = true
		fde.h(fde, flags)
	}
	return ran, nil
}

// Close removes every event, closes fds marked auto-close, stops signal
// delivery and the async worker pool, runs any function accepted by Post
// that has not run yet, and releases the backend. A loop blocked in another
// goroutine is woken and returns; Close called from another goroutine while
// the loop runs waits until the loop has stopped, so nothing runs after
// Close returns. Called from inside a handler, it tears down at once and the
// loop call returns when the handler does. Close is safe from any goroutine
// and returns nil when called again.
func (c *Context) Close() error {
	c.mu.Lock()
	if c.closed.Load() {
		// Closed already: wait for the teardown unless this goroutine is
		// the one running the loop or the teardown.
		if !c.torn {
			if g := goid(); g != c.owner.Load() && g != c.tearG {
				for !c.torn {
					c.cond.Wait()
				}
			}
		}
		c.mu.Unlock()
		return nil
	}
	c.closed.Store(true)
	g := goid()
	if c.depth == 0 || c.owner.Load() == g {
		// No loop is running, or we are inside a handler on the loop
		// goroutine: tear down here.
		c.tearing = true
		c.tearG = g
		c.mu.Unlock()
		return c.teardown()
	}
	// Another goroutine: wake the loop; its outermost call tears down.
	c.wakeSig.Store(1)
	err := c.waker.Wake()
	for !c.torn {
		c.cond.Wait()
	}
	c.mu.Unlock()
	return err
}

// teardown releases everything; it runs once, on the goroutine that owns the
// context at that moment.
func (c *Context) teardown() error {
	// Posted functions first: the rest of any batch whose run a Close
	// from one of its functions interrupted, outermost first, then every
	// Post accepted before closed was set, which is in the queue now.
	for k := range c.running {
		c.runBatch(k)
	}
	c.mu.Lock()
	batch := c.posted
	c.posted = nil
	c.mu.Unlock()
	for _, fn := range batch {
		c.npost.Add(-1)
		fn()
	}
	for _, fn := range c.onClose {
		fn()
	}
	c.onClose = nil
	var errs []error
	for _, fde := range c.fds {
		if fde != nil {
			if err := fde.remove(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	c.fds = nil
	for _, t := range c.timers {
		t.idx = -1
	}
	c.timers = nil
	clear(c.imm)
	c.imm = nil
	for len(c.signals) > 0 {
		c.signals[0].Remove()
	}
	c.mu.Lock()
	if err := c.poller.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := c.waker.Close(); err != nil {
		errs = append(errs, err)
	}
	c.torn = true
	c.cond.Broadcast()
	c.mu.Unlock()
	return errors.Join(errs...)
}

// OnClose registers fn to run on the owning goroutine while Close tears the
// context down, after posted functions and before events are removed. It is
// for packages that build on the context (worker pools, sockets); call it
// from the loop goroutine.
func (c *Context) OnClose(fn func()) {
	if c.closed.Load() {
		fn()
		return
	}
	c.onClose = append(c.onClose, fn)
}

// Iterations returns how many loop iterations have run: a cheap way for
// tests to bound how often a loop woke up (no busy loop).
func (c *Context) Iterations() uint64 { return c.dispatch }

// Closed reports whether Close has been called.
func (c *Context) Closed() bool { return c.closed.Load() }

// goid returns the current goroutine's id. It costs about a microsecond, so
// it is only read when a blocking loop call starts and in Close.
func goid() uint64 {
	var buf [32]byte
	n := runtime.Stack(buf[:], false)
	const prefix = "goroutine "
	var id uint64
	for _, ch := range buf[len(prefix):n] {
		if ch < '0' || ch > '9' {
			break
		}
		id = id*10 + uint64(ch-'0')
	}
	return id
}
