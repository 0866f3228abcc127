package tevent

import "errors"

// Close closes the context. It is safe from any goroutine and returns nil
// when called again.
//
// Close marks the context closed and wakes its loop: from then on no
// handler, timer or immediate runs, Post returns ErrClosed, and every call
// that would add an event does nothing or returns ErrClosed. The teardown
// itself runs on the goroutine that owns the context at that moment: at
// once when no loop call is running and no call of this package is in
// progress (Close from the owner between loop calls, or from anywhere while
// the context sits unused); otherwise when the handler that called Close
// returns to its loop, or when the loop call that another goroutine's Close
// woke returns. Close from another goroutine never touches the context's
// state while the owner is using it, and does not wait: receive from Done
// for that.
//
// The teardown runs every function accepted by Post that has not run yet,
// then the OnClose functions; ends the requests still in flight with
// ErrClosed, without calling back, running their cleanup functions (which
// release what they own: a connecting socket, a timer); removes every event,
// closing fds marked auto-close; stops signal delivery and the async worker
// pool; releases the backend; and closes Done. Close returns the
// teardown's errors if it ran it.
func (c *Context) Close() error {
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return nil
	}
	c.closed.Store(true)
	// Wake a loop blocked in another goroutine. A failed write leaves it
	// blocked until its next event; the teardown still happens then.
	werr := c.wakeLocked()
	c.mu.Unlock()
	if c.refs.Load() == 0 {
		return errors.Join(c.tryTeardown(), werr)
	}
	return werr
}

// tryTeardown tears down unless another goroutine already is.
func (c *Context) tryTeardown() error {
	if !c.tearing.CompareAndSwap(false, true) {
		return nil
	}
	return c.teardown()
}

// teardown releases everything; it runs once.
func (c *Context) teardown() error {
	// Posted functions first: the rest of any batch whose run a Close
	// from one of its functions interrupted, outermost first, then every
	// Post accepted before closed was set, which is in the queue now.
	for k := range c.running {
		c.runBatch(k)
	}
	c.running = nil
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
	c.endInflight()
	var errs []error
	for _, fde := range c.fds {
		if fde != nil {
			if err := fde.remove(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	c.fds = nil
	c.dirty = nil
	c.timers = nil
	clear(c.imm)
	c.imm = nil
	for _, s := range c.signals {
		s.stopForward()
	}
	c.signals = nil
	c.mu.Lock()
	if err := c.poller.Close(); err != nil {
		errs = append(errs, err)
	}
	if err := c.waker.Close(); err != nil {
		errs = append(errs, err)
	}
	c.mu.Unlock()
	close(c.done)
	return errors.Join(errs...)
}

// OnClose registers fn to run during the teardown, after posted functions
// and before the requests in flight are ended and events removed. It is for
// packages that build on the context (worker pools, servers that close
// their connections); call it on the owner. On a closed context fn runs at
// once.
func (c *Context) OnClose(fn func()) {
	if !c.hold() {
		fn()
		return
	}
	c.onClose = append(c.onClose, fn)
	c.release()
}

// tracked is a request in progress that owns something (it has a cleanup
// function): a teardown ends it.
type tracked interface {
	setTrackIdx(i int32)
	trackIdx() int32
	endByClose()
}

// track lists r among the requests a teardown must end.
func (c *Context) track(r tracked) {
	if !c.hold() {
		return
	}
	r.setTrackIdx(int32(len(c.inflight)))
	c.inflight = append(c.inflight, r)
	c.release()
}

// untrack takes r off the list: it finished, or was abandoned.
func (c *Context) untrack(r tracked) {
	i := r.trackIdx()
	if i < 0 || !c.hold() {
		return
	}
	defer c.release()
	last := len(c.inflight) - 1
	if int(i) > last || c.inflight[i] != r {
		return
	}
	if int(i) != last {
		c.inflight[i] = c.inflight[last]
		c.inflight[i].setTrackIdx(i)
	}
	c.inflight[last] = nil
	c.inflight = c.inflight[:last]
	r.setTrackIdx(-1)
}

// endInflight ends every request still in progress with ErrClosed. A
// cleanup may finish or abandon other tracked requests, so the list is
// taken whole first.
func (c *Context) endInflight() {
	list := c.inflight
	c.inflight = nil
	for _, r := range list {
		r.setTrackIdx(-1)
	}
	for _, r := range list {
		r.endByClose()
	}
}
