package tsocket

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/gotevent/gotevent/tevent"
)

// netConnBuf is the size of a NetConn's read buffer, allocated by its
// first Read: what one Read returns at most.
const netConnBuf = 16 << 10

// NetConn returns a net.Conn on s for goroutines other than the loop's,
// so that bufio, net/textproto, encoding/*, crypto/tls and any other code
// written against net.Conn can run on a stream. Call NetConn on the loop
// goroutine; it takes s over: from then on the loop side starts no
// request on s and leaves closing it to the net.Conn (the Server that
// accepted s still counts it until then).
//
// Each Read, Write and Close posts its work to the loop with Context.Post
// and waits for the loop's answer on a channel: two goroutine switches
// per call, and no goroutine started, per connection or per call. The
// methods may be called from any goroutine but the loop's own (there
// they would wait for themselves forever), and concurrently, as
// net.Conn's may: Reads take turns among themselves and Writes among
// themselves, and a Read and a Write run at the same time.
//
// Read returns what has arrived, at most 16 KiB per call: the loop reads
// into a buffer the conn owns and Read copies out of it. Write returns
// once every byte is written, or with the count written and the error.
// Deadlines work as net.Conn's do, on the wall clock (time.Now, whatever
// the context's clock): a Read or Write past its deadline fails with a
// *net.OpError that is a net.Error with Timeout() true and errors.Is(err,
// os.ErrDeadlineExceeded), and the connection stays usable. A Read that
// times out loses nothing: the read it started on the loop goes on, and
// the bytes it brings are the next Read's. A Write that times out stops
// the write in flight and returns the bytes already written. Setting a
// deadline, in the past included, wakes a Read or Write waiting on the
// old one.
//
// Close closes s on the loop and returns the error of close(2); a Read or
// Write waiting is woken and every call after Close fails with an error
// wrapping net.ErrClosed. When the context is closed, calls fail with an
// error wrapping net.ErrClosed (and tevent.ErrClosed) instead of waiting,
// and Close, once the teardown is done, closes s itself. The loop must
// keep running while the conn is used: a loop with nothing but posted
// work to wait for returns from LoopWait (run it with Run, or beside a
// listener). Errors are *net.OpError values, as net.Conn's are, around
// the cause (the *os.SyscallError of a failed read, net.ErrClosed,
// os.ErrDeadlineExceeded); io.EOF is returned bare.
//
// LocalAddr and RemoteAddr return s's addresses (an [Address] is a
// net.Addr), read when NetConn was called.
func NetConn(s *Stream) net.Conn {
	c := &netConn{
		s:       s,
		ev:      s.reg.ev,
		network: s.network(),
		rdone:   make(chan struct{}, 1),
		wdone:   make(chan struct{}, 1),
		rwake:   make(chan struct{}, 1),
		wwake:   make(chan struct{}, 1),
		closing: make(chan struct{}),
	}
	// The addresses are looked up now: Stream caches them on the loop.
	if a := s.LocalAddress(); a != nil {
		c.local = a
	}
	if a := s.RemoteAddress(); a != nil {
		c.remote = a
	}
	c.startReadFn, c.readDoneFn = c.startRead, c.readDone
	c.startWriteFn, c.writeDoneFn, c.abortWriteFn = c.startWrite, c.writeDone, c.abortWrite
	return c
}

// netConn is NetConn's net.Conn. Its fields are of three kinds: fixed at
// creation, guarded by mu (shared by the callers and the loop), or used on
// the loop only.
type netConn struct {
	s             *Stream
	ev            *tevent.Context
	network       string
	local, remote net.Addr

	rmu sync.Mutex // held by the Read in progress
	wmu sync.Mutex // held by the Write in progress

	mu      sync.Mutex
	buf     []byte // the read buffer: the loop's while reading, else Read's
	r, w    int    // buf[r:w] is unread
	rerr    error  // the error a read ended with, returned once buf is drained
	reading bool   // a read is in flight on the loop, into buf
	rdl     time.Time
	wdl     time.Time
	wp      []byte // the buffer of the write being started
	wn      int    // the result of the write, set when it ends
	werr    error

	rdone   chan struct{} // a read ended (a stale token only means: look again)
	wdone   chan struct{} // the write ended: exactly one token per write
	rwake   chan struct{} // the read deadline changed
	wwake   chan struct{} // the write deadline changed
	closing chan struct{} // closed by Close
	closeMu sync.Once

	// On the loop only.
	wreq *tevent.Req[int]
	wvec [1][]byte

	startReadFn, startWriteFn, abortWriteFn func()
	readDoneFn, writeDoneFn                 func(*tevent.Req[int])
}

func (c *netConn) opErr(op string, err error) error {
	return &net.OpError{Op: op, Net: c.network, Source: c.local, Addr: c.remote, Err: err}
}

// streamErr is the conn's error for what the stream's request failed
// with: io.EOF bare, anything else a *net.OpError around the cause (the
// *os.SyscallError, net.ErrClosed, ...), as net.Conn's are.
func (c *netConn) streamErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var oe *OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return c.opErr(op, err)
}

// closedErr is the error of a call on a closed conn or context.
func (c *netConn) closedErr(op string, cause error) error {
	if cause == nil {
		return c.opErr(op, net.ErrClosed)
	}
	return c.opErr(op, fmt.Errorf("%w: %w", net.ErrClosed, cause))
}

func (c *netConn) isClosing() bool {
	select {
	case <-c.closing:
		return true
	default:
		return false
	}
}

// passed reports whether deadline dl is set and reached.
func passed(dl time.Time) bool { return !dl.IsZero() && !time.Now().Before(dl) }

// waitTimer returns a channel that receives at dl, reusing *t, or nil for
// no deadline.
func waitTimer(t **time.Timer, dl time.Time) <-chan time.Time {
	if dl.IsZero() {
		return nil
	}
	if *t == nil {
		*t = time.NewTimer(time.Until(dl))
	} else {
		(*t).Reset(time.Until(dl))
	}
	return (*t).C
}

func stopTimer(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// Read reads what has arrived, waiting for the loop to bring some.
func (c *netConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	var timer *time.Timer
	defer func() { stopTimer(timer) }()
	for {
		c.mu.Lock()
		switch {
		case c.isClosing():
			c.mu.Unlock()
			return 0, c.closedErr("read", nil)
		case passed(c.rdl):
			c.mu.Unlock()
			return 0, c.opErr("read", os.ErrDeadlineExceeded)
		case c.r < c.w:
			n := copy(p, c.buf[c.r:c.w])
			c.r += n
			c.mu.Unlock()
			return n, nil
		case c.rerr != nil:
			err := c.rerr
			c.mu.Unlock()
			return 0, err
		case len(p) == 0:
			c.mu.Unlock()
			return 0, nil
		}
		start := !c.reading
		if start {
			c.reading = true
			c.r, c.w = 0, 0
			if c.buf == nil {
				c.buf = make([]byte, netConnBuf)
			}
		}
		dl := c.rdl
		c.mu.Unlock()
		if start {
			if err := c.ev.Post(c.startReadFn); err != nil {
				c.mu.Lock()
				c.reading = false
				c.mu.Unlock()
				return 0, c.closedErr("read", err)
			}
		}
		select {
		case <-c.rdone:
		case <-c.rwake:
		case <-waitTimer(&timer, dl):
		case <-c.closing:
		case <-c.ev.Done():
			// The teardown ended the read without calling back.
			c.mu.Lock()
			if c.reading {
				c.reading = false
				c.rerr = c.closedErr("read", tevent.ErrClosed)
			}
			c.mu.Unlock()
		}
	}
}

// startRead starts the read into buf, on the loop.
func (c *netConn) startRead() {
	ReadSomeSend(c.ev, c.s, c.buf).SetCallback(c.readDoneFn)
}

func (c *netConn) readDone(req *tevent.Req[int]) {
	n, err := ReadSomeRecv(req)
	c.mu.Lock()
	c.reading = false
	c.w = n
	c.rerr = c.streamErr("read", err)
	c.mu.Unlock()
	select {
	case c.rdone <- struct{}{}:
	default: // a token is already there
	}
}

// Write writes every byte of p, the loop writing straight from it.
func (c *netConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	dl := c.wdl
	c.mu.Unlock()
	switch {
	case c.isClosing():
		return 0, c.closedErr("write", nil)
	case passed(dl):
		return 0, c.opErr("write", os.ErrDeadlineExceeded)
	case len(p) == 0:
		return 0, nil
	}
	c.mu.Lock()
	c.wp = p
	c.mu.Unlock()
	if err := c.ev.Post(c.startWriteFn); err != nil {
		return 0, c.closedErr("write", err)
	}
	var timer *time.Timer
	defer func() { stopTimer(timer) }()
	aborting := false
	for {
		var expired <-chan time.Time
		if !aborting {
			expired = waitTimer(&timer, dl)
		}
		select {
		case <-c.wdone:
			c.mu.Lock()
			n, err := c.wn, c.werr
			c.mu.Unlock()
			return n, err
		case <-c.ev.Done():
			return 0, c.closedErr("write", tevent.ErrClosed) // the loop is done with p
		case <-c.wwake:
		case <-expired:
		}
		c.mu.Lock()
		dl = c.wdl
		c.mu.Unlock()
		if !aborting && passed(dl) {
			// Stop the write and learn how far it got; p is the
			// loop's until it answers. A failed Post means the
			// teardown is under way: Done is closed next.
			aborting = true
			_ = c.ev.Post(c.abortWriteFn)
		}
	}
}

// startWrite starts writing the caller's buffer, on the loop.
func (c *netConn) startWrite() {
	c.mu.Lock()
	c.wvec[0], c.wp = c.wp, nil
	c.mu.Unlock()
	c.wreq = WritevSend(c.ev, c.s, c.wvec[:])
	c.wreq.SetCallback(c.writeDoneFn)
}

func (c *netConn) writeDone(req *tevent.Req[int]) {
	c.wreq = nil
	n, err := WritevRecv(req)
	c.finishWrite(n, c.streamErr("write", err))
}

// abortWrite stops the write in flight when its deadline has passed. One
// that has finished already is left to its callback, on its way.
func (c *netConn) abortWrite() {
	req := c.wreq
	if req == nil || !req.IsInProgress() {
		return
	}
	n := c.s.written()
	c.wreq = nil
	req.Abandon() // the stream forgets it; the next write starts afresh
	c.finishWrite(n, c.opErr("write", os.ErrDeadlineExceeded))
}

func (c *netConn) finishWrite(n int, err error) {
	c.wvec[0] = nil
	c.mu.Lock()
	c.wn, c.werr = n, err
	c.mu.Unlock()
	c.wdone <- struct{}{} // one token per write, taken before the next starts
}

// written is how many bytes the writev in flight has written so far.
func (s *Stream) written() int {
	v := &s.wr.v
	n := v.off
	for _, b := range v.iov[:v.idx] {
		n += len(b)
	}
	return n
}

// Close closes the stream on the loop, or itself once a closed context
// has been torn down.
func (c *netConn) Close() error {
	first := false
	c.closeMu.Do(func() {
		first = true
		close(c.closing)
	})
	if !first {
		return c.closedErr("close", nil)
	}
	done := make(chan error, 1)
	if err := c.ev.Post(func() { done <- c.s.Close() }); err != nil {
		<-c.ev.Done() // nothing of the context runs after this: s is ours
		return c.streamErr("close", c.s.Close())
	}
	return c.streamErr("close", <-done) // a posted function always runs, at the teardown at the latest
}

// LocalAddr returns the stream's local address.
func (c *netConn) LocalAddr() net.Addr { return c.local }

// RemoteAddr returns the stream's peer address.
func (c *netConn) RemoteAddr() net.Addr { return c.remote }

// SetDeadline sets both deadlines.
func (c *netConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline and wakes a Read waiting.
func (c *netConn) SetReadDeadline(t time.Time) error {
	return c.setDeadline(&c.rdl, c.rwake, t)
}

// SetWriteDeadline sets the write deadline and wakes a Write waiting.
func (c *netConn) SetWriteDeadline(t time.Time) error {
	return c.setDeadline(&c.wdl, c.wwake, t)
}

func (c *netConn) setDeadline(dl *time.Time, wake chan struct{}, t time.Time) error {
	if c.isClosing() {
		return c.closedErr("set deadline", nil)
	}
	c.mu.Lock()
	*dl = t
	c.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default:
	}
	return nil
}
