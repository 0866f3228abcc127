package tevent

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/tlsio"
	"golang.org/x/sys/unix"
)

// StartTLS makes e's I/O go through TLS from now on, on crypto/tls, as
// the server (server true) or the client of the handshake. It returns at
// once: the handshake runs on a goroutine of a bounded pool shared with
// tsocket's TLS streams, which makes the socket calls that do not block
// itself, while the I/O that must wait is done by e's
// Read, Write and IO helpers, called from e's MaskFunc as usual, which
// return unix.EAGAIN and the mask to wait for until the handshake is over
// (the MaskFunc is also dispatched when the handshake wants the loop to do
// something). A handshake that fails makes the next Read or Write fail with
// its error (wrapped, so errors.As finds *tls.AlertError and the like).
//
// From then on Read, Write, IOWrite, IORead, IORetry and ReadUntil report
// the mask TLS truly needs: a read may need FDWrite (the peer is owed a
// record that the socket did not take) and a write FDRead (while the
// handshake waits for the peer). Two rules follow, both already the rule
// for ReadUntil's buffered records: crypto/tls holds decrypted input that
// no readiness report announces, so read until unix.EAGAIN before
// returning FDRead; and the last record a Write produced may still wait
// for the socket, so return the mask Read or Write last asked for before
// freeing the event. Close sends close_notify as far as the socket takes
// it. StartTLS on a STARTTLS connection must come after the plain reply
// is written, with nothing read past the command.
//
// It fails with an error wrapping EINVAL on a nil cfg, an event already
// using TLS, or an event that is freed, closed or spent. Call it on the
// goroutine holding the event.
func (e *MaskEvent) StartTLS(cfg *tls.Config, server bool) error {
	switch {
	case cfg == nil:
		return fmt.Errorf("tevent: StartTLS(%d): nil tls.Config: %w", e.fd, syscall.EINVAL)
	case e.tls != nil:
		return fmt.Errorf("tevent: StartTLS(%d): already started: %w", e.fd, syscall.EINVAL)
	case e.state != maskBuilt && e.state != maskScheduled && e.state != maskSuspended:
		return fmt.Errorf("tevent: StartTLS(%d): event is %v: %w", e.fd, e.state, syscall.EINVAL)
	case e.c.closed.Load():
		return ErrClosed
	}
	mt := &maskTLS{c: e.c, e: e, fd: e.fd, exited: make(chan struct{})}
	local, remote := tlsio.Addrs(e.fd)
	mt.sh = tlsio.NewShim(e.fd, local, remote, mt.kick)
	if server {
		mt.conn = tls.Server(mt.sh, cfg)
	} else {
		mt.conn = tls.Client(mt.sh, cfg)
	}
	e.tls = mt
	e.c.trackTLS(mt)
	tlsio.Go(mt.run)
	return nil
}

// maskTLS is a mask event's TLS state. The handshake goroutine only
// touches the shim and the fields under mu; the rest belongs to whoever
// holds the event.
type maskTLS struct {
	c    *Context
	e    *MaskEvent // the event that holds it now (Suspend moves it)
	fd   int
	sh   *tlsio.Shim
	conn *tls.Conn

	mu     sync.Mutex
	hsDone bool  // the handshake goroutine has returned
	hsErr  error // and this is what it returned
	exited chan struct{}

	ready  bool   // handshake done and its last flight written: direct mode
	err    error  // a failed handshake: every later call fails with it
	out    []byte // the handshake's output not yet on the socket
	rbuf   []byte // what the loop reads for the handshake
	closed bool   // close_notify sent
}

// run is the pool goroutine: the handshake, then a word to the loop.
func (mt *maskTLS) run() {
	err := mt.conn.Handshake()
	mt.mu.Lock()
	mt.hsDone, mt.hsErr = true, err
	mt.mu.Unlock()
	close(mt.exited)
	mt.kick()
}

// kick asks the loop to dispatch the event, so that its MaskFunc calls
// Read or Write and they do what the handshake waits for. Any goroutine.
func (mt *maskTLS) kick() {
	// Refused only once the context is closed, whose teardown stops the
	// handshake.
	_ = mt.c.Post(mt.wake)
}

func (mt *maskTLS) wake() {
	if e := mt.e; e.tls == mt && e.state == maskScheduled {
		e.dispatch(e.mask)
	}
}

// handshake moves the handshake on: it writes what the handshake wrote and
// reads what it waits for. It returns nil once the handshake is over,
// unix.EAGAIN with the mask to wait for while it is not, or its error.
func (mt *maskTLS) handshake() (Flags, error) {
	if mt.ready {
		return 0, nil
	}
	if mt.err != nil {
		return 0, mt.err
	}
	var need Flags
	mt.out = append(mt.out, mt.sh.TakeOut()...)
	for len(mt.out) > 0 {
		n, err := sys.Send(mt.fd, mt.out)
		switch {
		case sys.Interrupted(err):
			continue
		case sys.WouldBlock(err):
			need |= FDWrite
		case err != nil:
			err = os.NewSyscallError("send", err)
			mt.sh.SetWriteErr(err)
			mt.sh.Deliver(nil, err) // the handshake must not wait for an answer
			return 0, mt.fail(err)
		default:
			mt.out = mt.out[n:]
			continue
		}
		break
	}
	if len(mt.out) == 0 {
		mt.out = nil
		mt.sh.OutWritten() // the handshake may send by itself again
	}
	if mt.sh.WantRead() {
		if mt.rbuf == nil {
			mt.rbuf = make([]byte, 16<<10)
		}
		n, err := sys.Read(mt.fd, mt.rbuf)
		for sys.Interrupted(err) {
			n, err = sys.Read(mt.fd, mt.rbuf)
		}
		switch {
		case sys.WouldBlock(err):
			need |= FDRead
		case err != nil:
			mt.sh.Deliver(nil, os.NewSyscallError("read", err))
		case n == 0:
			mt.sh.Deliver(nil, io.ErrUnexpectedEOF)
		default:
			mt.sh.Deliver(mt.rbuf[:n], nil)
		}
	}
	mt.mu.Lock()
	done, herr := mt.hsDone, mt.hsErr
	mt.mu.Unlock()
	switch {
	case done && herr != nil:
		return 0, mt.fail(herr)
	case done && len(mt.out) == 0 && !mt.sh.Pending():
		mt.sh.Direct()
		mt.ready = true
		mt.rbuf = nil
		mt.c.untrackTLS(mt)
		return 0, nil
	case need == 0:
		// The handshake goroutine is computing; its kick dispatches the
		// event when it wants the loop again.
		need = FDRead
	}
	return need, unix.EAGAIN
}

func (mt *maskTLS) fail(err error) error {
	if mt.err == nil {
		mt.err = fmt.Errorf("tevent: TLS handshake on fd %d: %w", mt.fd, err)
		mt.c.untrackTLS(mt)
	}
	return mt.err
}

// read is MaskEvent.Read on a TLS event.
func (mt *maskTLS) read(buf []byte) (int, Flags, error) {
	if need, err := mt.handshake(); err != nil {
		return 0, need, err
	}
	if _, err := mt.sh.Flush(); err != nil {
		return 0, 0, err
	}
	n, err := mt.conn.Read(buf)
	switch {
	case n > 0:
		return n, 0, nil
	case errors.Is(err, tlsio.ErrWouldBlock):
		need := FDRead
		if mt.sh.Pending() {
			need |= FDWrite
		}
		return 0, need, unix.EAGAIN
	case err == io.EOF:
		return 0, 0, io.EOF
	}
	return 0, 0, fmt.Errorf("tevent: TLS read on fd %d: %w", mt.fd, err)
}

// write is MaskEvent.Write on a TLS event: a record's worth at most, once
// the ciphertext of the last is on the socket.
func (mt *maskTLS) write(buf []byte) (int, Flags, error) {
	if need, err := mt.handshake(); err != nil {
		return 0, need, err
	}
	ok, err := mt.sh.Flush()
	switch {
	case err != nil:
		return 0, 0, err
	case !ok:
		return 0, FDWrite, unix.EAGAIN
	case mt.closed:
		return 0, 0, fmt.Errorf("tevent: TLS write on fd %d after close_notify: %w", mt.fd, syscall.EPIPE)
	}
	n, err := mt.conn.Write(buf[:min(len(buf), 16<<10)])
	if err != nil {
		return n, 0, fmt.Errorf("tevent: TLS write on fd %d: %w", mt.fd, err)
	}
	return n, 0, nil
}

// closeNotify sends close_notify as far as the socket takes it now.
func (mt *maskTLS) closeNotify() {
	if !mt.ready || mt.closed {
		return
	}
	mt.closed = true
	// Best effort by nature: the fd is being closed, and a peer that
	// misses the alert sees a truncation, which it reports itself.
	if mt.conn.CloseWrite() == nil {
		_, _ = mt.sh.Flush()
	}
}

// stop aborts a handshake still running and waits for its goroutine; for
// Close and the context's teardown.
func (mt *maskTLS) stop() {
	mt.sh.Deliver(nil, tlsio.ErrAborted)
	<-mt.exited
	mt.c.untrackTLS(mt)
}

// trackTLS and untrackTLS keep the handshakes in flight, so that the
// teardown stops them and no goroutine outlives Close.
func (c *Context) trackTLS(mt *maskTLS) {
	if c.tlsHS == nil {
		c.tlsHS = make(map[*maskTLS]struct{})
		c.OnClose(func() {
			for mt := range c.tlsHS {
				mt.stop()
			}
		})
	}
	c.tlsHS[mt] = struct{}{}
}

func (c *Context) untrackTLS(mt *maskTLS) { delete(c.tlsHS, mt) }
