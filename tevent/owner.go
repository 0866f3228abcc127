package tevent

// Who may touch a context, and when it is torn down.
//
// A context is owned by the goroutine inside a loop call; between loop
// calls, by whichever goroutine drives it (there is no way to tell the two
// apart, and no code here tries: no goroutine ids). What must never happen
// is a Close from another goroutine tearing the context down while the
// owner is using it. So, as Go's internal/poll does for a descriptor, the
// context counts references: each loop call holds one for as long as it
// runs, and each call of this package made between loop calls holds one
// while it runs. Close marks the context closed and wakes the loop; it
// tears down at once only when no reference is held, and otherwise the
// goroutine that drops the last one does, before its call returns. A call
// that finds the context closed does nothing and reports it.
//
// Inside a loop call the loop's own reference covers every handler, so
// the calls handlers make (almost all of them) take no atomic: loops is a
// plain counter that only the owner reads and writes.

// hold takes a reference for a call made by the owner, or reports false if
// the context is closed. Every hold that returned true is paired with a
// release.
func (c *Context) hold() bool {
	if c.loops > 0 {
		return !c.closed.Load()
	}
	c.refs.Add(1)
	if c.closed.Load() {
		c.unref()
		return false
	}
	return true
}

// release drops the reference hold took.
func (c *Context) release() {
	if c.loops == 0 {
		c.unref()
	}
}

// unref drops one reference and tears down if it was the last one of a
// closed context. The loads are ordered after Close's store of closed and
// before its load of refs (all sequentially consistent), so of a racing
// Close and unref at least one sees the other and tears down; tearing
// makes sure only one does.
func (c *Context) unref() {
	if c.refs.Add(-1) == 0 && c.closed.Load() {
		c.tryTeardown()
	}
}

// enter starts a loop call: the calling goroutine owns the context until
// exit. On a closed context it returns ErrClosed, and tears it down if
// nobody has yet (a Close from another goroutine while no loop ran).
func (c *Context) enter() error {
	c.refs.Add(1)
	if c.closed.Load() {
		c.unref()
		return ErrClosed
	}
	c.loops++
	return nil
}

// exit ends a loop call. The outermost one tears down a context closed
// while it ran, so a loop call never returns leaving teardown undone.
func (c *Context) exit() {
	c.loops--
	c.unref()
}
