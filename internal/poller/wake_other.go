//go:build unix && !linux

package poller

import (
	"os"

	"golang.org/x/sys/unix"
)

// Waker is the descriptor another goroutine writes to in order to wake a
// loop blocked in Wait: an eventfd on Linux, a pipe elsewhere.
type Waker struct {
	rfd, wfd int
}

// NewWaker creates a non-blocking, close-on-exec waker.
func NewWaker() (*Waker, error) {
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return nil, os.NewSyscallError("pipe", err)
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return nil, os.NewSyscallError("fcntl", err)
		}
	}
	return &Waker{rfd: p[0], wfd: p[1]}, nil
}

// Wake makes Fd readable. EAGAIN means the pipe is full, which wakes the loop
// just as well.
func (w *Waker) Wake() error {
	b := [1]byte{1}
	for {
		_, err := unix.Write(w.wfd, b[:])
		switch err {
		case nil, unix.EAGAIN:
			return nil
		case unix.EINTR:
			continue
		}
		return os.NewSyscallError("write", err)
	}
}

// Drain consumes every pending wake-up.
func (w *Waker) Drain() error {
	var b [64]byte
	for {
		n, err := unix.Read(w.rfd, b[:])
		switch {
		case err == nil && n == len(b):
			continue
		case err == nil, err == unix.EAGAIN:
			return nil
		case err == unix.EINTR:
			continue
		}
		return os.NewSyscallError("read", err)
	}
}
