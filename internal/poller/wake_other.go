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

// wakeToken is what Wake writes: a byte into the pipe, which says EAGAIN
// once full.
var wakeToken = []byte{1}
