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

// Wake makes Fd readable. EAGAIN means the counter is already far from zero,
// which wakes the loop just as well.
func (w *Waker) Wake() error {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	for {
		_, err := sys.Write(w.wfd, b[:])
		switch {
		case err == nil, sys.WouldBlock(err):
			return nil
		case sys.Interrupted(err):
			continue
		}
		return os.NewSyscallError("write", err)
	}
}

// Drain consumes every pending wake-up.
func (w *Waker) Drain() error {
	var b [8]byte
	for {
		_, err := sys.Read(w.rfd, b[:])
		switch {
		case err == nil, sys.WouldBlock(err):
			return nil
		case sys.Interrupted(err):
			continue
		}
		return os.NewSyscallError("read", err)
	}
}
