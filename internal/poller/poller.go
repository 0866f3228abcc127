// Package poller holds the readiness backends behind tevent.Context: epoll
// on Linux and poll(2) everywhere else (and on Linux when asked for).
//
// A Poller is owned by one event loop and is not safe for concurrent use.
// Errors are bare errnos wrapped by os.NewSyscallError naming the call; the
// layer above adds context.
package poller

import (
	"errors"
	"fmt"
)

// Interest and readiness bits, shared by every backend.
const (
	In    uint32 = 1 << iota // readable, or interest in it
	Out                      // writable, or interest in it
	RDHup                    // peer shut down its writing side, or interest in it
	Err                      // error condition (always reported)
	Hup                      // hang-up (always reported)
)

// Event is one readiness report. Tag is the value given to Add or Mod for
// that registration, so a report for an fd number that has since been
// removed and reused can be recognised and dropped.
type Event struct {
	Fd    int32
	Tag   uint32
	Ready uint32
}

// Poller is a readiness backend. Interest is level-triggered. Err and Hup are
// reported whether or not they were asked for, unless the fd is not
// registered at all.
type Poller interface {
	// Name returns the backend name ("epoll" or "poll").
	Name() string
	// Add registers fd with the interest bits and tag.
	Add(fd int, tag uint32, interest uint32) error
	// Mod changes the interest bits and tag of a registered fd.
	Mod(fd int, tag uint32, interest uint32) error
	// Del unregisters fd. It never closes it.
	Del(fd int) error
	// Wait blocks for at most msec milliseconds (-1: no limit, 0: do not
	// block) and fills events. An interrupted wait returns 0, nil.
	Wait(events []Event, msec int) (int, error)
	// Close releases the backend's own descriptors.
	Close() error
}

// ErrUnknownBackend is returned by New for a name it does not know.
var ErrUnknownBackend = errors.New("poller: unknown backend")

// New returns the named backend; "" is the platform default.
func New(name string) (Poller, error) {
	if name == "" {
		name = Default
	}
	switch name {
	case "poll":
		return newPoll(), nil
	case "epoll":
		return newEpoll()
	}
	return nil, fmt.Errorf("%w %q (have %v)", ErrUnknownBackend, name, Backends())
}
