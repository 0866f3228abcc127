//go:build linux

package poller

import (
	"encoding/binary"
	"os"

	"github.com/gotevent/gotevent/internal/sys"
)

// Waker is the descriptor another goroutine writes to in order to wake a
// loop blocked in Wait: an eventfd on Linux, a pipe elsewhere.
type Waker struct {
	rfd, wfd int
}

// NewWaker creates a non-blocking, close-on-exec waker.
func NewWaker() (*Waker, error) {
	fd, err := sys.Eventfd()
	if err != nil {
		return nil, os.NewSyscallError("eventfd", err)
	}
	return &Waker{rfd: fd, wfd: fd}, nil
}

// wakeToken is what Wake writes: an eventfd takes a count of 8 bytes. A
// write that would overflow the counter says EAGAIN, when the counter is
// already far from zero.
var wakeToken = binary.NativeEndian.AppendUint64(nil, 1)
