//go:build unix

package poller

import (
	"os"

	"github.com/gotevent/gotevent/internal/sys"
)

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
