package imap

import (
	"time"

	"github.com/gotevent/gotevent/tevent"
)

// returnDelay is how long after a connection was handed over (to the
// hibernation process, or by the server to it) the memory it held is
// given back: a burst of hand-overs costs one call a second.
const returnDelay = time.Second

// memoryReturn calls fn on ev's loop returnDelay after poke, at most once
// per returnDelay: it is how the server and the hibernation process give
// back the memory that connections they handed over or took in left
// behind. The Go runtime keeps freed heap resident until a collection
// finds it free and its scavenger returns it, a few minutes for an idle
// process that allocates nothing; hibernating connections is only worth
// it if that memory goes now. The demo's fn is runtime/debug.FreeOSMemory
// (a collection, then every free page back to the system: a few
// milliseconds of the loop for tens of megabytes of heap).
type memoryReturn struct {
	ev *tevent.Context
	fn func() // nil: nothing is done
	t  *tevent.Timer
}

// poke asks for fn to run returnDelay from now, unless a call is already
// due.
func (m *memoryReturn) poke() {
	if m.fn == nil {
		return
	}
	at := m.ev.Now().Add(returnDelay)
	switch {
	case m.t == nil:
		m.t = m.ev.AddTimer(at, func(*tevent.Timer, time.Time) { m.fn() })
	case !m.t.Pending():
		m.t.Reset(at)
	}
}

// stop cancels a call due, so that a loop shutting down is not kept
// waiting for it.
func (m *memoryReturn) stop() {
	if m.t != nil {
		m.t.Cancel()
	}
}
