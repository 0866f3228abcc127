package imap

import (
	"bytes"
	"errors"
	"io"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// conn is one client connection: the transport of a [session.Session].
// It reads lines with a tsocket.Reader (ReadUntilSend, at most the
// session's MaxLine) and literals straight into their own buffer
// (ReadFullSend), queues the session's output in a tsocket.Writer (it is
// the session's proto.Out), and does what each session.Next says. One
// timer per connection (tick) runs the idle timeout, the keep-alives of
// IDLE, hibernation, and the bound on a closing connection.
//
// Every idle connection holds one, so a conn is kept small: a plain
// tevent.Timer re-armed in place rather than a stream wait event (which
// costs a WaitEvent, the stream's list of them and a new pair each time
// it moves earlier), and its times as nanoseconds of the loop's clock.
//
// A conn belongs to its server's loop goroutine.
type conn struct {
	srv  *Server
	s    *tsocket.Stream
	r    *tsocket.Reader
	w    *tsocket.Writer
	sess *session.Session
	tick *tevent.Timer // nil until first armed; cancelled once dead

	reading tevent.Request // the ReadUntilSend or ReadFullSend in flight
	// pending is input handed back by the hibernation process: the
	// session gets it before anything read from the stream.
	pending []byte

	// Unix nanoseconds of the loop's clock (ev.Now).
	active    int64 // last input, or output the client took
	idleSince int64 // when IDLE started, for hibernation
	nextKeep  int64 // next keep-alive during IDLE
	closeBy   int64 // when a closing connection is reset

	accepted    bool // srv.srv tracks the stream (not one resumed from hibernation)
	tls         bool
	idling      bool
	handshaking bool // STARTTLS in progress: nothing may be written
	closing     bool // the session is over; its last output is going out
	full        bool // the output passed the hard limit
	dead        bool // the stream is closed or handed over
	inTick      bool // onTick is running: it re-arms the wait event itself
}

var lf = []byte("\n")

func newConn(srv *Server, s *tsocket.Stream) *conn {
	c := &conn{srv: srv, s: s, active: srv.now(), accepted: true}
	c.attach(s)
	c.sess = session.New(&srv.cfg.Session, c)
	return c
}

// attach makes s the connection's stream, with a new Reader and Writer:
// at the start, after STARTTLS and after hibernation.
func (c *conn) attach(s *tsocket.Stream) {
	c.s = s
	c.r = tsocket.NewReader(c.srv.ev, s, c.srv.maxLine())
	c.w = tsocket.NewWriter(c.srv.ev, s, c.srv.cfg.Output)
	c.srv.conns[s] = c
	c.rearm()
}

// Write is proto.Out: the session's output goes to the Writer uncopied.
// A client that would make the server hold more than the hard limit is
// disconnected, from an immediate: Write may be called from inside
// another session's command (a watcher), where closing is not ours to do.
func (c *conn) Write(b ...[]byte) {
	if c.dead || c.full {
		return
	}
	err := c.w.Write(b...)
	if errors.Is(err, tsocket.ErrWriterFull) {
		c.full = true
		c.logf("output over %d bytes; disconnecting", c.srv.cfg.Output.Hard)
		c.srv.ev.ScheduleImmediate(c.reset)
	}
	// Any other error is a write that failed: the read fails too, and
	// the connection is dropped there.
}

// run does what the session asked for next.
func (c *conn) run(next session.Next) {
	if c.dead || c.closing {
		return
	}
	c.setIdle(next.Idle)
	switch next.Op {
	case session.ReadLine:
		c.readLine()
	case session.ReadLiteral:
		c.readLiteral(next)
	case session.WaitDrain:
		c.drain(0, func() { c.run(c.sess.Drained()) })
	case session.StartTLS:
		c.startTLS()
	case session.Close:
		c.finish()
	}
}

// setIdle follows the session in and out of IDLE, arming the keep-alive
// and the hibernation timer as IDLE starts.
func (c *conn) setIdle(idle bool) {
	if idle == c.idling {
		return
	}
	c.idling = idle
	if idle {
		now := c.srv.now()
		c.idleSince, c.nextKeep = now, now+int64(c.srv.cfg.KeepAlive)
		c.rearm()
	}
}

// readLine reads the next command line: from pending input first, and
// not before the client has taken its output while that is over the soft
// limit.
func (c *conn) readLine() {
	if c.w.OverSoft() {
		c.drain(c.srv.cfg.Output.Soft/2, c.readLine)
		return
	}
	if i := bytes.IndexByte(c.pending, '\n'); i >= 0 {
		line := c.pending[:i+1]
		c.pending = c.pending[i+1:]
		// On a later turn, as a read would: a long pipeline given back
		// by the hibernation process must not recurse.
		c.srv.ev.ScheduleImmediate(func() { c.gotLine(line, nil) })
		return
	}
	req := tsocket.ReadUntilSend(c.srv.ev, c.r, lf)
	c.reading = req
	req.SetCallback(func(req *tevent.Req[[]byte]) {
		c.reading = nil
		line, err := tsocket.ReadUntilRecv(req)
		if len(c.pending) > 0 && err == nil {
			// The line began in the input given back by hibernation.
			line = append(c.pending, line...)
			c.pending = nil
		}
		c.gotLine(line, err)
	})
}

// gotLine gives the session a line, or ends the connection on a read
// error.
func (c *conn) gotLine(line []byte, err error) {
	if c.dead || c.closing {
		return
	}
	switch {
	case errors.Is(err, tsocket.ErrRecordTooLong) || err == nil && len(line) > c.srv.maxLine():
		c.pending = nil
		c.active = c.srv.now()
		c.run(c.sess.LineTooLong())
	case err != nil:
		c.readFailed(err)
	default:
		c.active = c.srv.now()
		c.run(c.sess.Line(line))
	}
}

// readLiteral reads a literal into a buffer of its own, which the session
// keeps (APPEND stores it), straight from the socket past what is
// buffered. A literal the session discards is read into the server's
// scratch buffer a piece at a time.
func (c *conn) readLiteral(next session.Next) {
	if next.Discard {
		c.discard(next.Size, next.Size)
		return
	}
	buf := make([]byte, next.Size)
	n := copy(buf, c.pending)
	c.pending = c.pending[n:]
	c.readFull(buf[n:], func() { c.run(c.sess.Literal(buf)) })
}

// discard reads left of a literal of size bytes, then tells the session.
func (c *conn) discard(size, left int64) {
	if left == 0 {
		var data []byte
		if size <= int64(len(c.srv.scratch)) {
			data = c.srv.scratch[:size]
		} else {
			// The session checks the length only; the pages of a
			// large new slice are never touched.
			data = make([]byte, size)
		}
		c.run(c.sess.Literal(data))
		return
	}
	chunk := c.srv.scratch[:min(left, int64(len(c.srv.scratch)))]
	n := copy(chunk, c.pending)
	c.pending = c.pending[n:]
	c.readFull(chunk[n:], func() { c.discard(size, left-int64(len(chunk))) })
}

// readFull fills buf from the Reader, then calls then.
func (c *conn) readFull(buf []byte, then func()) {
	if len(buf) == 0 {
		c.srv.ev.ScheduleImmediate(func() {
			if !c.dead && !c.closing {
				then()
			}
		})
		return
	}
	req := tsocket.ReadFullSend(c.srv.ev, c.r, buf)
	c.reading = req
	req.SetCallback(func(req *tevent.Req[int]) {
		c.reading = nil
		if _, err := tsocket.ReadFullRecv(req); err != nil {
			c.readFailed(err)
			return
		}
		if c.dead || c.closing {
			return
		}
		c.active = c.srv.now()
		then()
	})
}

// readFailed ends the connection after a read error. A client that
// closed its side (EOF, possibly in the middle of a command) still gets
// every reply queued for it.
func (c *conn) readFailed(err error) {
	if c.dead || c.closing {
		return
	}
	c.sess.Close()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		c.finish()
		return
	}
	c.logf("read: %v", err)
	c.drop()
}

// drain waits until the client has taken its output down to below bytes.
func (c *conn) drain(below int, then func()) {
	req := tsocket.WriterDrainSend(c.srv.ev, c.w, below)
	req.SetCallback(func(req *tevent.Req[struct{}]) {
		if err := tsocket.WriterDrainRecv(req); err != nil {
			if !c.dead && !c.closing {
				c.sess.Close()
				c.drop()
			}
			return
		}
		if c.dead || c.closing {
			return
		}
		c.active = c.srv.now() // the client is reading
		then()
	})
}

// startTLS runs STARTTLS once "OK Begin TLS negotiation now" is out: the
// input buffered past the command is dropped with the Reader (a command
// injected in plaintext, CVE-2011-0411), the handshake is bounded by
// HandshakeTimeout, and the TLS stream gets a Reader and Writer of its
// own.
func (c *conn) startTLS() {
	c.handshaking = true
	c.drain(0, func() {
		plain := c.s
		c.pending = nil
		c.stopTick() // the handshake has its own end time; attach re-arms
		req := tsocket.TLSServerSend(c.srv.ev, plain, c.srv.cfg.TLS)
		req.SetEndTime(c.srv.ev.Now().Add(c.srv.cfg.HandshakeTimeout))
		req.SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
			c.handshaking = false
			ts, err := tsocket.TLSServerRecv(req)
			if err != nil {
				c.logf("STARTTLS: %v", err)
				c.sess.Close()
				c.drop()
				return
			}
			delete(c.srv.conns, plain)
			c.tls = true
			c.attach(ts)
			c.active = c.srv.now()
			if c.srv.stop {
				c.run(c.sess.Bye("Server shutting down"))
				return
			}
			c.run(c.sess.TLSStarted())
		})
	})
}

// shutdown is the server's shutdown reaching this connection.
func (c *conn) shutdown() {
	if c.dead || c.closing || c.handshaking {
		return // a handshake in progress says BYE once it is done
	}
	c.run(c.sess.Bye("Server shutting down"))
}

// finish closes the connection once its last output is written: the
// session has ended (LOGOUT, BYE) or the client has closed its side. A
// client that does not take that output is reset after ByeTimeout.
func (c *conn) finish() {
	if c.dead || c.closing {
		return
	}
	c.closing = true
	c.idling = false
	if c.reading != nil {
		c.reading.Abandon()
		c.reading = nil
	}
	c.closeBy = c.srv.now() + int64(c.srv.cfg.ByeTimeout)
	c.rearm()
	req := tsocket.WriterCloseSend(c.srv.ev, c.w)
	req.SetCallback(func(req *tevent.Req[struct{}]) {
		if err := tsocket.WriterCloseRecv(req); err != nil && !c.dead {
			c.logf("close: %v", err)
		}
		c.gone()
	})
}

// reset closes the connection at once, discarding what the client has
// not taken (SO_LINGER 0): the client learns it was dropped, and the
// server keeps no orphaned socket with a full send buffer.
func (c *conn) reset() {
	if c.dead {
		return
	}
	if err := c.s.SetLinger(0); err != nil {
		c.logf("linger: %v", err)
	}
	c.sess.Close()
	c.drop()
}

// drop closes the stream now.
func (c *conn) drop() {
	if c.dead {
		return
	}
	if c.reading != nil {
		c.reading.Abandon()
		c.reading = nil
	}
	c.s.Close()
	c.gone()
}

// gone forgets a connection whose stream is closed or handed over.
func (c *conn) gone() {
	if c.dead {
		return
	}
	c.stopTick()
	c.dead = true
	c.sess.Close()
	delete(c.srv.conns, c.s)
}

// nextMark is when the timer must run next, in Unix nanoseconds.
func (c *conn) nextMark() int64 {
	if c.closing {
		return c.closeBy
	}
	m := c.active + int64(c.srv.cfg.IdleTimeout)
	if c.idling {
		m = min(m, c.nextKeep)
		if c.canHibernate() {
			m = min(m, c.idleSince+int64(c.srv.cfg.HibernateAfter))
		}
	}
	return m
}

// rearm moves the timer earlier when the connection's state asks for it;
// a mark that moved later is found by onTick itself, which then sleeps
// again, so input never touches the timer. Re-arming allocates nothing.
func (c *conn) rearm() {
	if c.inTick || c.dead {
		return
	}
	m := time.Unix(0, c.nextMark())
	switch {
	case c.tick == nil:
		c.tick = c.srv.ev.AddTimer(m, c.onTick)
	case !c.tick.Pending() || m.Before(c.tick.When()):
		c.tick.Reset(m)
	}
}

// stopTick disarms the timer: the connection is gone, handed over, or in
// a STARTTLS handshake.
func (c *conn) stopTick() {
	if c.tick != nil {
		c.tick.Cancel()
	}
}

// onTick is the connection's timer.
func (c *conn) onTick(*tevent.Timer, time.Time) {
	if c.dead {
		return
	}
	c.inTick = true
	now := c.srv.now()
	switch {
	case c.closing:
		if now >= c.closeBy {
			c.logf("client took no output for %v after BYE; resetting", c.srv.cfg.ByeTimeout)
			c.reset()
		}
	case now >= c.active+int64(c.srv.cfg.IdleTimeout):
		c.logf("idle for %v: autologout", c.srv.cfg.IdleTimeout)
		c.run(c.sess.Bye("Autologout; idle for too long"))
	case c.idling:
		if now >= c.nextKeep {
			c.sess.KeepAlive()
			c.nextKeep = now + int64(c.srv.cfg.KeepAlive)
		}
		if c.canHibernate() && now >= c.idleSince+int64(c.srv.cfg.HibernateAfter) {
			// Try again a period later if it cannot be done now.
			c.idleSince = now
			c.srv.ev.ScheduleImmediate(c.hibernate)
		}
	}
	c.inTick = false
	if !c.dead {
		c.tick.Reset(time.Unix(0, c.nextMark()))
	}
}

func (c *conn) logf(format string, args ...any) {
	c.srv.logf("imap %v: "+format, append([]any{c.s.RemoteAddress()}, args...)...)
}
