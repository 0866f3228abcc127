package tevent

import (
	"sync"
	"time"
)

// Clock tells the loop the time. The default is the system clock; tests use
// a FakeClock so that timer logic runs in microseconds and deterministically.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// FakeClock is a Clock that moves only when told to: by Advance, by Set, or
// by the loop, which, when nothing else is ready, moves it straight to the
// earliest timer deadline instead of sleeping. It is safe for use from any
// goroutine.
//
// "Nothing else is ready" is judged at that instant: a peer outside the loop
// (another goroutine, another process) that has not written yet does not
// hold the clock back, so its timeouts fire at once. Drive both ends from
// the same loop, or use the system clock, for such tests.
type FakeClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewFakeClock returns a FakeClock reading start.
func NewFakeClock(start time.Time) *FakeClock {
	return &FakeClock{now: start}
}

// Now returns the fake time.
func (f *FakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the fake time forward by d (a negative d is ignored: the
// clock never goes back).
func (f *FakeClock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Set moves the fake time to t if t is later than the current fake time.
func (f *FakeClock) Set(t time.Time) {
	f.mu.Lock()
	if t.After(f.now) {
		f.now = t
	}
	f.mu.Unlock()
}
