package tevent

import "unsafe"

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
