package tsocket

import (
	"slices"
	"time"

	"github.com/gotevent/gotevent/tevent"
)

// WaitFunc is a wait event's callback (Cyrus prot_waiteventcallback_t). It
// runs on the loop goroutine once the loop's clock has passed we.Mark. It
// returns we to keep the event, after setting we.Mark to the next time it
// should run (a wall time, not an interval), or nil to remove it. It may
// remove this or any other wait event, and close s.
type WaitFunc func(s *Stream, we *WaitEvent, rock any) *WaitEvent

// WaitEvent is a timed callback attached to a Stream (Cyrus
// prot_addwaitevent), used for idle timeouts, keep-alives and pushing
// updates during long-running commands. It lives until its callback
// returns nil, RemoveWaitEvent removes it or the stream is closed. It is
// used on the loop goroutine only.
type WaitEvent struct {
	// Mark is when the callback is to run next, read on the context's
	// clock. Set it inside the callback before returning the event; a
	// change made elsewhere takes effect the next time the callback
	// returns.
	Mark time.Time

	s     *Stream
	fn    WaitFunc
	rock  any
	timer *tevent.Timer
}

// AddWaitEvent adds a wait event that calls fn(s, we, rock) once the loop
// passes mark. While s has wait events it holds timers in its context's
// loop; they go when s is closed.
func (s *Stream) AddWaitEvent(mark time.Time, fn WaitFunc, rock any) *WaitEvent {
	we := &WaitEvent{Mark: mark, s: s, fn: fn, rock: rock}
	if s.closed || fn == nil {
		return we
	}
	we.timer = s.reg.ev.AddTimer(mark, we.fire)
	x := s.extra()
	x.waits = append(x.waits, we)
	return we
}

// RemoveWaitEvent removes we; its callback will not run again. Removing an
// event already gone does nothing. Safe inside any callback, we's own
// included.
func (s *Stream) RemoveWaitEvent(we *WaitEvent) {
	if we == nil || we.s != s || s.x == nil {
		return
	}
	if i := slices.Index(s.x.waits, we); i >= 0 {
		s.x.waits = slices.Delete(s.x.waits, i, i+1)
	}
	if we.timer != nil {
		we.timer.Cancel()
		we.timer = nil
	}
}

func (we *WaitEvent) fire(t *tevent.Timer, _ time.Time) {
	s := we.s
	if we.timer != t {
		return
	}
	keep := we.fn(s, we, we.rock)
	if we.timer != t || s.closed {
		return // removed inside the callback
	}
	if keep == nil {
		s.RemoveWaitEvent(we)
		return
	}
	t.Reset(we.Mark)
}

func (s *Stream) removeWaitEvents() {
	for s.hasWaits() {
		s.RemoveWaitEvent(s.x.waits[len(s.x.waits)-1])
	}
}
