package tevent

import (
	"errors"
	"fmt"
)

// Post queues fn to run on the loop goroutine and wakes the loop. It is safe
// to call from any goroutine. It returns ErrClosed once Close has begun; a
// function for which Post returned nil always runs: on the loop, or at the
// latest during the teardown, and never after Done is closed.
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
		// The only failure is a closed waker, which the lock and the
		// closed check rule out; a full eventfd counter still wakes.
		_ = c.wakeLocked()
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
// context leaves the rest to the teardown, which runs it.
func (c *Context) runBatch(k int) {
	for {
		if k >= len(c.running) {
			return // a teardown inside fn ran and dropped the batches
		}
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

// Expect tells the loop that work running elsewhere (a goroutine, another
// loop) will Post back to it: until the returned release function is
// called, the context counts as having an event, so LoopWait, LoopOnce
// and Poll wait for the post instead of returning, or failing with
// ErrNoEvents, while nothing else is registered. Call Expect and release
// on the loop goroutine, release typically from the posted function or
// from the cleanup of the request waiting for it; calling release again
// does nothing. CallSend and tsocket's TLS handshakes use it.
func (c *Context) Expect() (release func()) {
	c.npost.Add(1)
	done := false
	return func() {
		if !done {
			done = true
			c.npost.Add(-1)
		}
	}
}
