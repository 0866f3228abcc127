package tevent

// LineStateReads returns how many read calls ReadUntil has made on st, so
// tests can tell a record served from the buffer from one that needed a read.
func LineStateReads(st *LineState) int { return st.reads }

// LineStateBuffer returns the size of st's buffer, 0 when it holds none.
func LineStateBuffer(st *LineState) int { return st.buf.Cap() }

// SetAsyncClosingHook makes the context's async pool call fn during Close,
// after it has dropped the queued jobs and before it waits for the running
// ones. The pool must exist (a job was queued).
func SetAsyncClosingHook(c *Context, fn func()) {
	c.async.mu.Lock()
	c.async.closing = fn
	c.async.mu.Unlock()
}

// AsyncWorkers returns how many worker goroutines the context's async pool
// has alive (0 without a pool).
func AsyncWorkers(c *Context) int {
	if c.async == nil {
		return 0
	}
	c.async.mu.Lock()
	defer c.async.mu.Unlock()
	return c.async.workers
}
