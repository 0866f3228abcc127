package tevent

import (
	"unsafe"

	"github.com/gotevent/gotevent/internal/poller"
)

// SpyWaits makes c tell seen the timeout of each wait on its backend,
// before the wait: whether an iteration blocks, without timing it.
func SpyWaits(c *Context, seen func(msec int)) { c.poller = waitSpy{c.poller, seen} }

type waitSpy struct {
	poller.Poller
	seen func(msec int)
}

func (w waitSpy) Wait(events []poller.Event, msec int) (int, error) {
	w.seen(msec)
	return w.Poller.Wait(events, msec)
}

// Inject adds n arrivals to the signal's count and wakes the loop, as the
// forwarding goroutine does when the runtime notifies it. Tests use it to
// check coalescing exactly, which real signals (coalesced by the kernel
// too) cannot.
func (s *Signal) Inject(n int) {
	s.count.Add(int64(n))
	s.c.sigPending.Store(true)
	s.c.wake()
}

// Subreqs returns how many subrequests r still tracks.
func Subreqs[T any](r *Req[T]) int {
	if r.x == nil {
		return 0
	}
	return len(r.x.subreqs)
}

// ReqSize is the size of a Req[int].
const ReqSize = unsafe.Sizeof(Req[int]{})
