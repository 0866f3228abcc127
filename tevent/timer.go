package tevent

import "time"

// TimerHandler is called on the loop goroutine when te is due; now is the
// loop's reading of the clock. The timer is already disarmed, so the handler
// may Reset it to run again.
type TimerHandler func(te *Timer, now time.Time)

// Timer is a timer event (tevent_timer), created by Context.AddTimer. Its
// methods are called on the loop goroutine.
type Timer struct {
	c   *Context
	key int64 // deadline, nanoseconds since c.epoch
	seq uint64
	idx int // position in the heap; -1 when not armed
	h   TimerHandler
}

func (c *Context) key(t time.Time) int64 { return int64(t.Sub(c.epoch)) }

func (c *Context) timeAt(key int64) time.Time { return c.epoch.Add(time.Duration(key)) }

// AddTimer arms a timer that runs h once at (or after) at (tevent_add_timer).
// Timers run in deadline order, equal deadlines in the order armed; a
// deadline in the past runs on the next iteration. After Close the timer is
// never armed.
func (c *Context) AddTimer(at time.Time, h TimerHandler) *Timer {
	t := &Timer{c: c, idx: -1, h: h}
	if c.hold() {
		t.arm(at)
		c.release()
	}
	return t
}

// When returns the deadline the timer was last armed for.
func (t *Timer) When() time.Time { return t.c.timeAt(t.key) }

// Pending reports whether the timer is armed; after Close it is not.
func (t *Timer) Pending() bool { return !t.c.closed.Load() && t.idx >= 0 }

// Cancel disarms the timer; its handler will not run. It reports whether
// the timer was armed. Safe inside any handler.
func (t *Timer) Cancel() bool {
	c := t.c
	if t.idx < 0 || !c.hold() {
		return false // after Close no timer is armed (the heap is gone)
	}
	c.timers.remove(t.idx)
	c.release()
	return true
}

// Reset re-arms the timer for at, whether it was armed, fired or cancelled,
// and reports whether it was armed. A reset timer counts as newly armed for
// ordering among equal deadlines. Re-arming costs no allocation.
func (t *Timer) Reset(at time.Time) bool {
	c := t.c
	if !c.hold() {
		return false
	}
	defer c.release()
	was := t.idx >= 0
	if was {
		c.timers.remove(t.idx)
	}
	t.arm(at)
	return was
}

func (t *Timer) arm(at time.Time) {
	c := t.c
	t.key = c.key(at)
	t.seq = c.tseq
	c.tseq++
	c.timers.push(t)
}

// runTimers runs the timers due at now that were armed before it started.
func (c *Context) runTimers(now time.Time) bool {
	nowKey := c.key(now)
	snap := c.tseq
	ran := false
	for len(c.timers) > 0 && !c.closed.Load() {
		t := c.timers[0]
		if t.key > nowKey || t.seq >= snap {
			break
		}
		c.timers.remove(0)
		ran = true
		if t.h != nil {
			t.h(t, now)
		}
	}
	return ran
}

// timerHeap is a binary min-heap ordered by (key, seq), written out rather
// than through container/heap to keep interface calls off the hot path.
type timerHeap []*Timer

func (h timerHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	return a.key < b.key || (a.key == b.key && a.seq < b.seq)
}

func (h timerHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}

func (h *timerHeap) push(t *Timer) {
	t.idx = len(*h)
	*h = append(*h, t)
	h.up(t.idx)
}

func (h *timerHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	t := old[i]
	if i != n {
		old.swap(i, n)
	}
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
	t.idx = -1
}

func (h timerHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h timerHeap) down(i0 int) bool {
	i := i0
	n := len(h)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && h.less(r, j) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}
