package tevent

import (
	"context"
	"fmt"
	"time"

	"github.com/gotevent/gotevent/internal/poller"
)

// hasEvents reports whether anything could still make the loop run a handler.
func (c *Context) hasEvents() bool {
	return c.nfds > 0 || len(c.timers) > 0 || len(c.imm) > 0 ||
		len(c.signals) > 0 || c.npost.Load() > 0
}

// LoopOnce waits for and runs at least one event: one iteration runs pending
// signals, the immediates queued before it started, due timers, then every
// fd that one wait reported ready, each once. It returns ErrNoEvents when
// nothing is registered and ErrClosed after Close (a context closed while
// it ran is torn down before it returns).
func (c *Context) LoopOnce() error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.exit()
	return c.loopOnce(nil)
}

// LoopWait runs the loop until no events remain, or until the context is
// closed while it runs, and then returns nil. Called on a context already
// closed, it returns ErrClosed.
func (c *Context) LoopWait() error {
	if err := c.enter(); err != nil {
		return err
	}
	defer c.exit()
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
	if err := c.enter(); err != nil {
		return err
	}
	defer c.exit()
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
	if err := c.enter(); err != nil {
		return err
	}
	defer c.exit()
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

// loopOnce runs iterations until one runs a handler, or stop says to give
// up. Under Run (stop set), an iteration that ran handlers may still block
// in its wait (see iterate).
func (c *Context) loopOnce(stop func() bool) error {
	for {
		if c.closed.Load() {
			return ErrClosed
		}
		if !c.hasEvents() {
			return ErrNoEvents
		}
		ran, err := c.iterate(stop != nil)
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

// iterate runs one iteration and reports whether any handler ran.
//
// Its wait does not block once a handler has run, so that LoopOnce and
// LoopUntil return to their caller, unless mayBlock is set: Run, which
// checks nothing between iterations that a wake-up does not announce,
// lets an iteration whose handlers queued no immediate block in its wait.
// A server's iteration that flushed its replies from an immediate then
// waits at once for the next requests, as Redis's loop does after its
// beforeSleep, instead of polling once more for nothing first.
func (c *Context) iterate(mayBlock bool) (bool, error) {
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
	if (!ran || mayBlock) && len(c.imm) == 0 && !c.sigPending.Load() {
		if len(c.timers) > 0 && (now.IsZero() || ran) {
			now = c.clock.Now() // handlers may have taken a while
		}
		timeout = c.timeout(now)
		if c.fake != nil && timeout != 0 && len(c.timers) > 0 {
			timeout = 0 // a fake clock never sleeps for a timer
		}
	}
	// Interest changes made by handlers reach the backend before it
	// waits, in this loop or in one nested in a handler.
	failed := c.applyDirty()
	n := 0
	var events []poller.Event
	// Something already ran and no descriptor could be ready: skip the
	// syscall. Otherwise look, so busy immediates never starve fds.
	if failed == nil && (!ran || c.nfds > 0 || c.wakeSig.Load() != 0) {
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
	if failed != nil {
		ran = c.dispatchFailed(failed) || ran
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
