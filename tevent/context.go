package tevent

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotevent/gotevent/internal/poller"
)

// Context is an event context: the fd, timer, immediate and signal events of
// one event loop, and the requests that run on it (tevent_context).
//
// The goroutine that runs a loop call (LoopOnce, LoopWait, LoopUntil, Run,
// Req.Poll) owns the context for that call; between loop calls the context
// may move to another goroutine, as long as the hand-over is synchronised
// (a channel, a WaitGroup). Every method is called by the owner, or before
// the loop first runs, except Post, Close, Done and
// ScheduleEventAndDispatch, which are safe from any goroutine. Handlers
// never run concurrently with each other, and may add and remove any event,
// including their own. Many contexts may run at once, one per goroutine.
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
	// dirty holds fd events whose flags changed inside a loop call and
	// are not yet known to the backend: they are applied together right
	// before the next wait, nested or not (see FD.SetFlags).
	dirty []*FD

	timers timerHeap
	tseq   uint64

	imm    []immediate // immediates queued for the next iteration
	immRun []immediate // the batch being run (kept to reuse its array)

	signals    []*Signal
	sigRun     []*Signal
	sigPending atomic.Bool

	// Ownership and teardown (owner.go, close.go). refs counts the loop
	// calls in progress and the calls made between loop calls that are
	// still inside this package; Close tears down only when it is zero,
	// and otherwise whoever drops the last reference does. loops is the
	// number of loop calls in progress, read and written only by the
	// owner, so that calls made from handlers take no atomic at all.
	refs    atomic.Int64
	closed  atomic.Bool
	tearing atomic.Bool
	loops   int
	done    chan struct{}
	onClose []func()
	// inflight lists the requests in progress that have a cleanup
	// function, which is how a teardown ends them and releases what they
	// own (a connecting socket). Each knows its index.
	inflight []tracked

	// mu guards posted and the waker against a concurrent teardown.
	mu       sync.Mutex
	posted   []func()
	postRun  []func()
	npost    atomic.Int32
	wakeSig  atomic.Uint32 // 1 while a wake-up is written and not yet consumed
	dispatch uint64        // iterations run; for tests and tracing

	// running holds the batches of posted functions being run, outermost
	// first (a loop nested in a posted function runs its own batch), so
	// that a teardown runs the rest of every batch. Loop goroutine only.
	running []postBatch
	nested  int // iterations in progress: more than one inside a nested loop

	asyncWorkers int // size of the async job pool, from WithAsyncWorkers
	async        *asyncPool

	tlsHS map[*maskTLS]struct{} // mask events' TLS handshakes in flight
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
		done:    make(chan struct{}),

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
	return c, nil
}

// Backend returns the name of the backend in use.
func (c *Context) Backend() string { return c.backend }

// Now returns the context's clock reading.
func (c *Context) Now() time.Time { return c.clock.Now() }

// Iterations returns how many loop iterations have run: a cheap way for
// tests to bound how often a loop woke up (no busy loop).
func (c *Context) Iterations() uint64 { return c.dispatch }

// Closed reports whether Close has been called. The teardown may still be
// to come; Done says when it has finished.
func (c *Context) Closed() bool { return c.closed.Load() }

// Done returns a channel that is closed once the context has been torn
// down: from then on nothing of the context runs, no handler, no posted
// function, and its descriptors are closed. It is safe from any goroutine,
// and is how a goroutine that called Close waits for the loop to finish.
func (c *Context) Done() <-chan struct{} { return c.done }

func (c *Context) traceAt(p TracePoint) {
	if c.trace != nil {
		c.trace(p)
	}
}
