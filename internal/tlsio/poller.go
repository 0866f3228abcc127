package tlsio

// The handshake's I/O on Go's runtime poller (UsePoller): the handshake
// goroutine reads and writes a duplicate of the descriptor and waits there
// as a net.Conn would, so the loop hears from it only when it is over.

import (
	"io"
	"os"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
)

// UsePoller makes the handshake read and write a duplicate of the
// descriptor on Go's runtime poller, waiting there rather than crossing
// to the loop. The handshake goroutine calls it as it starts, so that at
// most one duplicate exists per running handshake (Workers), and
// ReleasePoller when it is over. On an error the shim stays as it was;
// after CloseFD or Abort it makes nothing.
func (sh *Shim) UsePoller() error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.rerr != nil {
		return sh.rerr
	}
	dup, err := sys.Dup(sh.fd)
	if err != nil {
		return sysErr("fcntl", err)
	}
	// The descriptor is non-blocking, so os.NewFile registers it with the
	// poller; a File that is not pollable would block the goroutine in
	// its calls, which must not happen here.
	f := os.NewFile(uintptr(dup), "tls handshake")
	rc, err := f.SyscallConn()
	if err == nil {
		err = f.SetDeadline(time.Time{}) // fails unless pollable
	}
	if err != nil {
		f.Close()
		return err
	}
	sh.f, sh.rc = f, rc
	return nil
}

// ReleasePoller closes the duplicate UsePoller made, once no call uses it;
// for the handshake goroutine, when the handshake is over.
func (sh *Shim) ReleasePoller() {
	sh.mu.Lock()
	f := sh.f
	sh.mu.Unlock()
	if f != nil {
		// Closed already if Abort came first; nothing else can fail here.
		_ = f.Close()
	}
}

// Abort ends the handshake's reads and writes with err (ErrAborted,
// net.ErrClosed): one waiting wakes, and none is made from then on. Any
// goroutine.
func (sh *Shim) Abort(err error) {
	sh.mu.Lock()
	if sh.rerr == nil {
		sh.rerr = err
	}
	if sh.werr == nil {
		sh.werr = err
	}
	sh.wantRead = false
	sh.cond.Broadcast()
	f := sh.f
	sh.mu.Unlock()
	if f != nil {
		// Wakes a call waiting in the poller; the duplicate is closed
		// once that call has returned.
		_ = f.Close()
	}
}

// pollRead reads the duplicate for the handshake, waiting in the poller
// while it is empty; sh.mu is not held.
func (sh *Shim) pollRead(b []byte) (int, error) {
	var n int
	var serr error
	err := sh.rc.Read(func(fd uintptr) bool {
		for {
			n, serr = sysRead(int(fd), b)
			if !interrupted(serr) {
				return !wouldBlock(serr)
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case serr != nil:
		return 0, sysErr("read", serr)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// pollWrite writes all of b to the duplicate for the handshake, waiting in
// the poller while the socket is full; sh.mu is not held.
func (sh *Shim) pollWrite(b []byte) error {
	var serr error
	err := sh.rc.Write(func(fd uintptr) bool {
		for len(b) > 0 {
			n, err := sysSend(int(fd), b)
			switch {
			case interrupted(err):
			case wouldBlock(err):
				return false
			case err != nil:
				serr = err
				return true
			default:
				b = b[n:]
			}
		}
		return true
	})
	if err == nil && serr != nil {
		err = sysErr("send", serr)
	}
	return err
}
