package demo

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// LineConfig sets the timings of the IMAP-style server.
type LineConfig struct {
	// IdleTimeout closes a connection that sends nothing for this long
	// (outside IDLE). Zero means 30 minutes, as IMAP's autologout minimum.
	IdleTimeout time.Duration
	// Update is the interval at which an IDLE command pushes a new
	// "* N EXISTS" line. Zero means 10 seconds.
	Update time.Duration
	// KeepAlive is the interval of "* OK still here" lines during IDLE
	// when no update went out. Zero means 2 minutes.
	KeepAlive time.Duration
	// Greeting is sent on connect; empty means "* OK gotevent demo ready".
	Greeting string
}

func (cfg *LineConfig) fill() {
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.Update <= 0 {
		cfg.Update = 10 * time.Second
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 2 * time.Minute
	}
	if cfg.Greeting == "" {
		cfg.Greeting = "* OK gotevent demo ready"
	}
}

// LineServer serves the IMAP-style tagged line protocol on one loop:
// CAPABILITY, NOOP, IDLE (ended by DONE), LOGOUT, and "BAD" for anything
// else. During IDLE a wait event pushes updates and keep-alives; a wait
// event also closes connections silent for longer than IdleTimeout. It
// belongs to the loop goroutine.
type LineServer struct {
	ev    *tevent.Context
	acc   acceptor
	cfg   LineConfig
	conns map[*lineConn]struct{}
	buf   []byte // the read buffer every connection of the loop shares
	// Log, if set, is told what happens to connections.
	Log func(format string, args ...any)
}

// NewLineServer serves on l, which it takes over.
func NewLineServer(ev *tevent.Context, l *tsocket.Listener, cfg LineConfig) *LineServer {
	cfg.fill()
	srv := &LineServer{ev: ev, cfg: cfg, conns: make(map[*lineConn]struct{}), buf: make([]byte, sharedReadBuf)}
	srv.acc = acceptor{ev: ev, l: l, serve: srv.Serve, logf: srv.logf, name: "line"}
	srv.acc.next()
	return srv
}

// Conns returns the number of open connections.
func (srv *LineServer) Conns() int { return len(srv.conns) }

// Close stops accepting and closes every connection.
func (srv *LineServer) Close() {
	if !srv.acc.close() {
		return
	}
	for c := range srv.conns {
		// The BYE goes to the kernel inside WritevSend; close at once, as
		// the loop may stop before a write callback could run.
		c.send("* BYE server shutting down")
		c.drop()
	}
}

func (srv *LineServer) logf(format string, args ...any) {
	if srv.Log != nil {
		srv.Log(format, args...)
	}
}

// Serve runs the protocol on a connected stream, which the server takes
// over: one it accepted itself, or one made elsewhere (a socketpair).
func (srv *LineServer) Serve(s *tsocket.Stream) {
	c := &lineConn{srv: srv, s: s, last: srv.ev.Now()}
	c.r = reader{max: MaxLine, shared: c.srv.buf}
	c.w = writer{ev: srv.ev, s: s, drained: c.drained}
	srv.conns[c] = struct{}{}
	c.timeout = s.AddWaitEvent(c.last.Add(srv.cfg.IdleTimeout), c.idleCheck, nil)
	c.send(srv.cfg.Greeting)
	c.readNext()
}

type lineConn struct {
	srv      *LineServer
	s        *tsocket.Stream
	r        reader
	w        writer
	last     time.Time // last input, for the idle timeout
	timeout  *tsocket.WaitEvent
	idle     *tsocket.WaitEvent // pushes updates while IDLE runs
	idleTag  string
	nextPush time.Time // next "* N EXISTS"
	nextKeep time.Time // next keep-alive
	exists   int
	reading  bool
	closing  bool
	done     bool
}

func (c *lineConn) send(line string) {
	c.w.write(append([]byte(line), '\r', '\n'))
}

func (c *lineConn) readNext() {
	if c.reading || c.done || c.closing {
		return
	}
	if _, _, err := NextLine(c.r.in); err != nil {
		c.close("line too long")
		return
	}
	subreq, err := c.r.readSome(c.srv.ev, c.s)
	if err != nil {
		c.close("line too long")
		return
	}
	c.reading = true
	subreq.SetCallback(c.readDone)
}

func (c *lineConn) readDone(subreq *tevent.Req[[]byte]) {
	c.reading = false
	p, err := tsocket.ReadSomeFuncRecv(subreq)
	if c.done {
		return
	}
	c.r.filled(p)
	defer c.r.keep() // a partial line leaves the shared buffer
	if err != nil {
		switch {
		case errors.Is(err, ErrLineTooLong), errors.Is(err, errBufferFull):
			c.close("line too long")
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			c.srv.logf("line: %v: peer closed", c.s.RemoteAddress())
			c.drop()
		default:
			c.srv.logf("line: %v: read: %v", c.s.RemoteAddress(), err)
			c.drop()
		}
		return
	}
	c.last = c.srv.ev.Now()
	for !c.closing {
		line, n, err := NextLine(c.r.in)
		if err != nil || n == 0 {
			break
		}
		c.handle(line)
		c.r.consume(n)
	}
	c.readNext()
}

// handle runs one command line. Input that arrives while IDLE runs is read
// at once, so DONE ends it without waiting for the next push.
func (c *lineConn) handle(line []byte) {
	if c.idle != nil {
		if string(line) == "DONE" || string(line) == "done" {
			c.s.RemoveWaitEvent(c.idle)
			c.idle = nil
			c.send(c.idleTag + " OK IDLE terminated")
			return
		}
		c.send("* BAD expected DONE")
		return
	}
	cmd, ok := ParseLine(line)
	if !ok {
		c.send("* BAD missing tag or command")
		return
	}
	switch cmd.Verb {
	case "CAPABILITY":
		c.send("* CAPABILITY IMAP4rev1 IDLE")
		c.send(cmd.Tag + " OK CAPABILITY completed")
	case "NOOP":
		c.send(cmd.Tag + " OK NOOP completed")
	case "IDLE":
		now := c.srv.ev.Now()
		c.idleTag = cmd.Tag
		c.nextPush = now.Add(c.srv.cfg.Update)
		c.nextKeep = now.Add(c.srv.cfg.KeepAlive)
		c.send("+ idling")
		c.idle = c.s.AddWaitEvent(earliest(c.nextPush, c.nextKeep), c.idlePush, nil)
	case "LOGOUT":
		c.send("* BYE logging out")
		c.send(cmd.Tag + " OK LOGOUT completed")
		c.closing = true
		c.maybeClose()
	default:
		c.send(cmd.Tag + " BAD unknown command " + cmd.Verb)
	}
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// idlePush is IDLE's wait event: it pushes updates and keep-alives and
// reschedules itself by setting we.Mark.
func (c *lineConn) idlePush(_ *tsocket.Stream, we *tsocket.WaitEvent, _ any) *tsocket.WaitEvent {
	now := c.srv.ev.Now()
	if !now.Before(c.nextPush) {
		c.exists++
		c.send(fmt.Sprintf("* %d EXISTS", c.exists))
		c.nextPush = now.Add(c.srv.cfg.Update)
		c.nextKeep = now.Add(c.srv.cfg.KeepAlive) // the update kept it alive
	}
	if !now.Before(c.nextKeep) {
		c.send("* OK still here")
		c.nextKeep = now.Add(c.srv.cfg.KeepAlive)
	}
	we.Mark = earliest(c.nextPush, c.nextKeep)
	return we
}

// idleCheck is the idle timeout: it closes a connection silent for
// IdleTimeout, except while IDLE runs (which is meant to be quiet).
func (c *lineConn) idleCheck(_ *tsocket.Stream, we *tsocket.WaitEvent, _ any) *tsocket.WaitEvent {
	now := c.srv.ev.Now()
	deadline := c.last.Add(c.srv.cfg.IdleTimeout)
	if c.idle != nil {
		deadline = now.Add(c.srv.cfg.IdleTimeout)
	}
	if now.Before(deadline) {
		we.Mark = deadline
		return we
	}
	c.timeout = nil
	c.srv.logf("line: %v: idle for %v, closing", c.s.RemoteAddress(), c.srv.cfg.IdleTimeout)
	c.close("autologout; idle for too long")
	return nil
}

// close says BYE and closes once it is written.
func (c *lineConn) close(why string) {
	if c.closing || c.done {
		return
	}
	c.send("* BYE " + why)
	c.closing = true
	c.maybeClose()
}

func (c *lineConn) maybeClose() {
	if c.w.pending() == 0 || c.w.failed != nil {
		c.drop()
	}
}

func (c *lineConn) drained(err error) {
	if err != nil {
		c.drop()
		return
	}
	if c.closing {
		c.drop()
	}
}

// drop closes the stream at once; its wait events go with it.
func (c *lineConn) drop() {
	if c.done {
		return
	}
	c.done = true
	delete(c.srv.conns, c)
	c.s.Close()
}
