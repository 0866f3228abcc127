//go:build unix

package poller

import (
	"os"

	"github.com/gotevent/gotevent/internal/sys"
)

// Wake makes Fd readable. EAGAIN means the waker is readable already (see
// wakeToken), which wakes the loop just as well.
func (w *Waker) Wake() error {
	for {
		_, err := sys.Write(w.wfd, wakeToken)
		switch {
		case err == nil, sys.WouldBlock(err):
			return nil
		case sys.Interrupted(err):
			continue
		}
		return os.NewSyscallError("write", err)
	}
}

// Drain consumes every pending wake-up: an eventfd's count in one read of
// 8 bytes, a pipe's bytes in reads until one comes back short.
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

// Fd is the descriptor to register for reading.
func (w *Waker) Fd() int { return w.rfd }

// Close closes the waker's descriptors.
func (w *Waker) Close() error {
	var err error
	if w.rfd >= 0 {
		err = sys.Close(w.rfd)
	}
	if w.wfd >= 0 && w.wfd != w.rfd {
		if e := sys.Close(w.wfd); err == nil {
			err = e
		}
	}
	w.rfd, w.wfd = -1, -1
	if err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}
