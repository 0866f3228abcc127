package tevent

// ScheduleImmediate queues fn to run on the next loop iteration, before
// timers and fd events. Immediates run in the order queued; one queued while
// immediates are running waits for the next iteration. After Close it does
// nothing.
func (c *Context) ScheduleImmediate(fn func()) {
	if fn == nil || !c.hold() {
		return
	}
	c.imm = append(c.imm, immediate{fn: fn})
	c.release()
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
	if !c.hold() {
		return
	}
	c.imm = append(c.imm, immediate{req: n})
	c.release()
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
