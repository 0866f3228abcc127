package tevent

import "github.com/gotevent/gotevent/internal/poller"

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
