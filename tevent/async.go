package tevent

import (
	"fmt"
	"sync"
	"syscall"
)

// QueueAsyncJob runs job on the context's worker pool and then resumes wake
// on the loop with mask, as ScheduleEventAndDispatch does: the blocking part
// of serving a connection (a DNS lookup, a disk read, a call to another
// service) moves off the loop while the connection's event is suspended:
//
//	dup := e.Suspend()
//	err := ev.QueueAsyncJob(func() { s.reply = fetch(s.url) }, dup, tevent.FDWrite)
//
// Whatever job writes is visible to wake's MaskFunc when it runs: the resume
// goes through Post. wake must come from Suspend and not have been handed to
// another resume (an error wrapping syscall.EINVAL otherwise); it may be nil
// for a job that resumes nothing, in which case nothing keeps the loop
// running for the job (a suspended wake does: LoopWait waits for it).
//
// The pool runs at most WithAsyncWorkers jobs at once (GOMAXPROCS by
// default), in the order queued; more jobs wait in the queue. Its
// goroutines start when jobs are queued and exit as soon as the queue is
// empty, so an idle context holds none. A job must not block on the loop:
// it must not call Close or wait for a handler, since Close waits for it.
//
// Close drops the jobs still queued and waits for the running ones, so no
// goroutine of the pool outlives Close. A dropped job never runs and its
// wake event is not resumed, and neither is the wake event of a job that
// finishes once Close has begun; such an event is removed with the
// context's other events and its fd is left open for its owner to close.
//
// QueueAsyncJob is called on the loop goroutine. It returns ErrClosed after
// Close.
func (c *Context) QueueAsyncJob(job func(), wake *MaskEvent, mask Flags) error {
	if job == nil {
		return fmt.Errorf("tevent: QueueAsyncJob of a nil job: %w", syscall.EINVAL)
	}
	if c.closed.Load() {
		return ErrClosed
	}
	if wake != nil {
		if err := c.claimResume("QueueAsyncJob", wake, mask); err != nil {
			return err
		}
	}
	if c.async == nil {
		c.async = newAsyncPool(c, c.asyncWorkers)
		c.OnClose(c.async.close)
	}
	if err := c.async.submit(asyncJob{job: job, wake: wake, mask: mask}); err != nil {
		if wake != nil {
			wake.resumable.Store(true) // not queued: the caller still holds it
		}
		return err
	}
	return nil
}

// asyncJob is one QueueAsyncJob call.
type asyncJob struct {
	job  func()
	wake *MaskEvent
	mask Flags
}

// asyncPool is the bounded worker pool behind QueueAsyncJob. It is created
// on the loop goroutine by the first job; jobs are queued from the loop
// goroutine and taken by workers, each a goroutine that runs jobs until the
// queue is empty and then exits.
type asyncPool struct {
	c   *Context
	max int // most workers at once; immutable

	mu      sync.Mutex
	idle    sync.Cond  // broadcast when the last worker exits
	queue   []asyncJob // queue[head:] waits for a worker
	head    int
	workers int  // worker goroutines alive
	closed  bool // Close began: no more jobs, queued ones dropped

	closing func() // test hook: runs in close once the queue is dropped
}

func newAsyncPool(c *Context, workers int) *asyncPool {
	p := &asyncPool{c: c, max: max(1, workers)}
	p.idle.L = &p.mu
	return p
}

// submit queues j and starts a worker if fewer than max are alive.
func (p *asyncPool) submit(j asyncJob) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.head > 0 && p.head == len(p.queue) {
		clear(p.queue) // drop references to finished jobs
		p.queue, p.head = p.queue[:0], 0
	}
	p.queue = append(p.queue, j)
	if p.workers < p.max {
		p.workers++
		go p.work()
	}
	return nil
}

// work runs queued jobs until the queue is empty or the pool is closed.
func (p *asyncPool) work() {
	for {
		p.mu.Lock()
		if p.closed || p.head == len(p.queue) {
			p.workers--
			if p.workers == 0 {
				p.idle.Broadcast()
			}
			p.mu.Unlock()
			return
		}
		j := p.queue[p.head]
		p.queue[p.head] = asyncJob{}
		p.head++
		p.mu.Unlock()

		j.job()
		if j.wake != nil {
			wake, mask := j.wake, j.mask
			// Post fails only once Close has begun; the event is then not
			// resumed, as QueueAsyncJob documents, and nothing waits for it.
			_ = p.c.Post(func() { wake.resume(mask) })
		}
	}
}

// close runs on the owning goroutine during Close (registered with
// OnClose): it drops the queued jobs and waits for the running ones.
// Running jobs cannot be waiting for the loop (QueueAsyncJob forbids it),
// and their Post fails at once with ErrClosed, so the wait ends.
func (p *asyncPool) close() {
	p.mu.Lock()
	p.closed = true
	clear(p.queue)
	p.queue, p.head = nil, 0
	hook := p.closing
	p.mu.Unlock()
	if hook != nil {
		hook()
	}
	p.mu.Lock()
	for p.workers > 0 {
		p.idle.Wait()
	}
	p.mu.Unlock()
}
