// Package tlsio runs crypto/tls over a non-blocking socket driven by an
// event loop: the Shim that crypto/tls reads and writes, and the bounded
// pool of goroutines that run handshakes. tsocket's TLS streams and
// tevent's MaskEvent.StartTLS are built on it; it knows nothing of either.
package tlsio

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Shim is the net.Conn that crypto/tls runs on. crypto/tls wants a
// blocking connection; a stream is driven by its loop and never blocks. The
// shim bridges the two in two modes.
//
// During the handshake, which crypto/tls runs as straight-line code that
// cannot be resumed after an error, the handshake runs on a goroutine of a
// bounded pool (Go), which owns the socket meanwhile. With UsePoller it
// reads and writes a duplicate of the descriptor registered with Go's
// runtime poller and waits there, as a net.Conn would: nothing crosses to
// the loop until the handshake is over. Each crossing costs a Post and, as
// a loop runs on a thread of its own, a switch of threads each way; a
// handshake that waits for its peer twice made six of them. The duplicate
// is the goroutine's alone, so a Close of the stream from the loop cannot
// close a descriptor under a call in progress: the loop calls Abort, which
// wakes the goroutine, and Go's poller closes the duplicate once no call
// uses it (internal/poll's fdMutex).
//
// Without UsePoller (tevent's MaskEvent.StartTLS, whose fd the loop may
// hold in its own MaskFunc), the goroutine makes the calls that do not
// block itself and crosses to the loop for the rest: a Read that finds
// the socket empty asks the loop to read for it once it is readable, and
// waits; what the socket does not take of a Write is handed to the loop
// to write, and Write returns at once. The loop closes the descriptor
// only after CloseFD or once the goroutine has returned; CloseFD waits for
// a call in progress (sh.mu is held across each).
//
// After the handshake the loop calls tls.Conn's Read and Write itself, and
// the shim reads and writes the socket directly, non-blocking. Two
// behaviours of crypto/tls make that work, both pinned by tests
// (tsocket/tls_crypto_test.go):
//   - a read error that is a net.Error with Temporary() true does not break
//     the connection (conn.go, readRecordOrCCS: "if e, ok := err.(net.Error);
//     !ok || !e.Temporary() { c.in.setErrorLocked(err) }"), and a record
//     read in part stays in tls.Conn's rawInput; so the shim's EAGAIN
//     becomes ErrWouldBlock and the same Read is simply called again once
//     the socket is readable;
//   - a write error breaks the connection for good, so the shim's Write
//     never fails for want of buffer space: what the socket does not take
//     is kept in out and flushed by the loop, and the write request it
//     belongs to finishes only once out is empty.
type Shim struct {
	fd            int
	local, remote net.Addr

	mu   sync.Mutex
	cond sync.Cond
	hs   bool   // handshake mode: I/O goes through the loop
	in   []byte // ciphertext read by the loop, not yet taken by crypto/tls
	out  []byte // ciphertext crypto/tls wrote that is not on the socket yet
	// rerr ends reads: EOF or the socket's error, seen by the loop; or,
	// while aborting a handshake, ErrAborted.
	rerr error
	// werr is the first error writing out; crypto/tls is told at its next
	// Write.
	werr error

	// scan follows the record framing of what Read hands crypto/tls, and
	// whole counts the records it completed since crypto/tls last called
	// Read, which it does only when it holds no whole record (see
	// HoldsInput).
	scan  recordScan
	whole int

	// Handshake mode only: wantRead asks the loop to read (the goroutine
	// waits in Read), and out not empty asks it to write; loopOut is set
	// while the loop writes what TakeOut gave it, so that later bytes
	// queue behind them. kick wakes the loop side to look at them; it
	// runs Post on the stream's context.
	wantRead bool
	loopOut  bool
	kick     func()

	// f, with UsePoller, is a duplicate of fd on Go's poller, for the
	// handshake goroutine; rc is its RawConn. Both are set as the
	// handshake starts and dropped by Direct, once it is over.
	f  *os.File
	rc syscall.RawConn
}

// ErrWouldBlock is what the shim's Read returns when the socket has
// nothing: a timeout, as net.Conn returns for a read past its deadline, so
// crypto/tls keeps the connection usable.
var ErrWouldBlock error = wouldBlockError{}

type wouldBlockError struct{}

func (wouldBlockError) Error() string   { return "tlsio: would block" }
func (wouldBlockError) Timeout() bool   { return true }
func (wouldBlockError) Temporary() bool { return true }

// ErrAborted ends a handshake whose request timed out, was
// cancelled or abandoned, or whose context closed.
var ErrAborted = errors.New("tlsio: TLS handshake aborted")

// NewShim returns a shim in handshake mode on the non-blocking socket fd.
// kick is called, from any goroutine, when the handshake wants the loop to
// read (WantRead) or to write what TakeOut returns; it must not block.
func NewShim(fd int, local, remote net.Addr, kick func()) *Shim {
	sh := &Shim{fd: fd, local: local, remote: remote, hs: true, kick: kick}
	sh.cond.L = &sh.mu
	return sh
}

// Read is crypto/tls reading ciphertext: in handshake mode it waits for the
// socket (UsePoller) or the loop; afterwards it reads the socket and
// returns ErrWouldBlock when it is empty.
func (sh *Shim) Read(b []byte) (int, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.whole = 0
	for {
		if len(sh.in) > 0 {
			n := copy(b, sh.in)
			sh.in = sh.in[n:]
			if len(sh.in) == 0 {
				sh.in = nil
			}
			sh.whole += sh.scan.scan(b[:n])
			return n, nil
		}
		if sh.rerr != nil {
			return 0, sh.rerr
		}
		if !sh.hs {
			n, err := sh.readSocket(b)
			sh.whole += sh.scan.scan(b[:n])
			return n, err
		}
		if sh.rc != nil {
			sh.mu.Unlock()
			n, err := sh.pollRead(b)
			sh.mu.Lock()
			switch {
			case sh.rerr != nil:
				return 0, sh.rerr // aborted: that, not the poller's word for it
			case err != nil:
				sh.rerr = err
			}
			sh.whole += sh.scan.scan(b[:n])
			return n, err
		}
		// Handshake mode: the socket itself, and only once it is empty,
		// the loop.
		if !sh.wantRead {
			n, err := sh.readSocket(b)
			if err != ErrWouldBlock {
				sh.whole += sh.scan.scan(b[:n])
				return n, err
			}
			sh.wantRead = true
			sh.mu.Unlock()
			sh.kick()
			sh.mu.Lock()
			continue // the loop may have delivered already: look again
		}
		sh.cond.Wait()
	}
}

// HoldsInput reports whether crypto/tls may hold a whole record it has
// not decrypted, or the shim bytes it has not handed over, once a Read of
// crypto/tls has returned plaintext and taken less than it was offered
// (so none is left decrypted). Neither is announced by the socket. It
// relies on crypto/tls reading its connection only while the record it is
// on is incomplete, so none is whole (conn.go, readFromUntil; pinned by
// tsocket/tls_crypto_test.go): of the records completed since its last
// Read, the first has been decrypted by then; more than one may leave
// some behind. Otherwise, what comes next is in the socket, and its
// readiness says so: a TLS stream need not read again just to learn of
// EAGAIN.
func (sh *Shim) HoldsInput() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.whole > 1 || len(sh.in) > 0
}

// readSocket reads the socket directly; sh.mu is held.
func (sh *Shim) readSocket(b []byte) (int, error) {
	for {
		n, err := sysRead(sh.fd, b)
		switch {
		case interrupted(err):
			continue
		case wouldBlock(err):
			return 0, ErrWouldBlock
		case err != nil:
			sh.rerr = sysErr("read", err)
			return 0, sh.rerr
		case n == 0:
			sh.rerr = io.EOF
			return 0, io.EOF
		}
		return n, nil
	}
}

// Write is crypto/tls writing ciphertext: it never blocks and never fails
// for want of room. In handshake mode it hands the bytes to the loop;
// afterwards it writes what the socket takes and keeps the rest for Flush.
func (sh *Shim) Write(b []byte) (int, error) {
	sh.mu.Lock()
	if sh.werr != nil {
		err := sh.werr
		sh.mu.Unlock()
		return 0, err
	}
	if sh.hs && sh.rc != nil {
		sh.mu.Unlock()
		err := sh.pollWrite(b)
		sh.mu.Lock()
		defer sh.mu.Unlock()
		switch {
		case sh.werr != nil:
			return 0, sh.werr
		case err != nil:
			sh.werr = err
			return 0, err
		}
		return len(b), nil
	}
	if sh.hs {
		// The socket first, unless earlier bytes still wait for it.
		total := len(b)
		if len(sh.out) == 0 && !sh.loopOut {
			n, err := sh.writeSocket(b)
			if err != nil {
				sh.mu.Unlock()
				return 0, err
			}
			if b = b[n:]; len(b) == 0 {
				sh.mu.Unlock()
				return total, nil
			}
		}
		sh.out = append(sh.out, b...)
		sh.mu.Unlock()
		sh.kick()
		return total, nil
	}
	defer sh.mu.Unlock()
	if len(sh.out) > 0 {
		sh.out = append(sh.out, b...) // keep the order
		return len(b), nil
	}
	n, err := sh.writeSocket(b)
	if err != nil {
		return n, err
	}
	if n < len(b) {
		sh.out = append(sh.out, b[n:]...)
	}
	return len(b), nil
}

// writeSocket writes b to the socket once, as far as it takes it; EAGAIN
// is no error. sh.mu is held.
func (sh *Shim) writeSocket(b []byte) (int, error) {
	for {
		n, err := sysSend(sh.fd, b)
		switch {
		case interrupted(err):
			continue
		case wouldBlock(err):
			return 0, nil
		case err != nil:
			sh.werr = sysErr("send", err)
			return 0, sh.werr
		}
		return n, nil
	}
}

// Flush writes what is kept in out. It reports whether out is empty, or
// the write error.
func (sh *Shim) Flush() (bool, error) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for len(sh.out) > 0 {
		if sh.werr != nil {
			return false, sh.werr
		}
		n, err := sh.writeSocket(sh.out)
		if err != nil {
			return false, err
		}
		if n == 0 {
			return false, nil
		}
		sh.out = sh.out[n:]
	}
	sh.out = nil
	return true, nil
}

// WantRead reports whether the handshake is waiting for the loop to read.
func (sh *Shim) WantRead() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return sh.wantRead
}

// SetWriteErr records that writing the handshake's output failed: its
// next Write fails with err.
func (sh *Shim) SetWriteErr(err error) {
	sh.mu.Lock()
	if sh.werr == nil {
		sh.werr = err
	}
	sh.mu.Unlock()
}

// Pending reports whether ciphertext is waiting for the socket.
func (sh *Shim) Pending() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return len(sh.out) > 0
}

// Deliver hands ciphertext the loop read to a handshake waiting in Read;
// err (EOF, a socket error, ErrAborted) ends its reads.
func (sh *Shim) Deliver(b []byte, err error) {
	sh.mu.Lock()
	sh.in = append(sh.in, b...)
	if err != nil && sh.rerr == nil {
		sh.rerr = err
	}
	sh.wantRead = false
	sh.cond.Broadcast()
	sh.mu.Unlock()
}

// TakeOut hands the loop the ciphertext of the handshake that the socket
// did not take. Until OutWritten, what the handshake writes next queues
// behind it.
func (sh *Shim) TakeOut() []byte {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.out
	sh.out = nil
	sh.loopOut = sh.loopOut || len(b) > 0
	return b
}

// OutWritten tells the shim that the loop's write of what TakeOut gave it
// is over, written or failed.
func (sh *Shim) OutWritten() {
	sh.mu.Lock()
	sh.loopOut = false
	sh.mu.Unlock()
}

// CloseFD is called by the loop right before it closes the descriptor
// during the handshake: it waits for a call the handshake goroutine is
// making on it, fails every later read and write with net.ErrClosed
// instead of making them, and wakes one waiting (Abort).
func (sh *Shim) CloseFD() {
	sh.mu.Lock()
	sh.fd = -1
	sh.mu.Unlock()
	sh.Abort(net.ErrClosed)
}

// Direct switches to the loop calling crypto/tls itself. Bytes the loop
// read beyond the handshake stay in in, read first.
func (sh *Shim) Direct() {
	sh.mu.Lock()
	sh.hs = false
	sh.kick = nil
	sh.f, sh.rc = nil, nil // closed by ReleasePoller; an idle stream keeps nothing of the handshake
	sh.mu.Unlock()
}

// Close is a no-op: the stream closes the socket, and crypto/tls closing
// it (its Close, or a failed HandshakeContext) must not.
func (sh *Shim) Close() error { return nil }

// LocalAddr returns the stream's local address.
func (sh *Shim) LocalAddr() net.Addr { return sh.local }

// RemoteAddr returns the stream's peer address.
func (sh *Shim) RemoteAddr() net.Addr { return sh.remote }

// SetDeadline does nothing: deadlines are the requests' end times, kept by
// the loop, and the ones crypto/tls sets itself (around close_notify) must
// not turn into errors here.
func (sh *Shim) SetDeadline(time.Time) error { return nil }

// SetReadDeadline does nothing; see SetDeadline.
func (sh *Shim) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline does nothing; see SetDeadline.
func (sh *Shim) SetWriteDeadline(time.Time) error { return nil }
