//go:build unix && !linux

package poller

import (
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
	p, err := sys.Pipe()
	if err != nil {
		return nil, os.NewSyscallError("pipe", err)
	}
	return &Waker{rfd: p[0], wfd: p[1]}, nil
}

// Wake makes Fd readable. EAGAIN means the pipe is full, which wakes the loop
// just as well.
func (w *Waker) Wake() error {
	b := [1]byte{1}
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
	var b [64]byte
	for {
		n, err := sys.Read(w.rfd, b[:])
		switch {
		case err == nil && n == len(b):
			continue
		case err == nil, sys.WouldBlock(err):
			return nil
		case sys.Interrupted(err):
			continue
		}
		return os.NewSyscallError("read", err)
	}
}
