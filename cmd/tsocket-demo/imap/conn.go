package imap

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/demoserver"
	"github.com/gotevent/gotevent/tsocket"
)

// conn is one client connection of a Server.
type conn struct {
	srv      *Server
	s        *tsocket.Stream
	r        demoserver.Reader
	w        demoserver.Writer
	last     time.Time // last input, for the idle timeout
	timeout  *tsocket.WaitEvent
	idle     *tsocket.WaitEvent // pushes updates while IDLE runs
	idleTag  string
	nextPush time.Time // next "* N EXISTS"
	nextKeep time.Time // next keep-alive
	exists   int
	closing  bool
	done     bool
}

func (c *conn) send(line string) {
	c.w.Write(append([]byte(line), '\r', '\n'))
}

func (c *conn) readNext() {
	if c.r.Reading() || c.done || c.closing {
		return
	}
	if _, _, err := NextLine(c.r.Buffered()); err != nil {
		c.close("line too long")
		return
	}
	if err := c.r.Read(c.srv.ev, c.s, c.readDone); err != nil {
		c.close("line too long")
	}
}

// readDone runs the command lines a read completed.
func (c *conn) readDone(err error) {
	if c.done {
		return
	}
	if err != nil {
		switch {
		case errors.Is(err, ErrLineTooLong), errors.Is(err, demoserver.ErrBufferFull):
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
		line, n, err := NextLine(c.r.Buffered())
		if err != nil || n == 0 {
			break
		}
		c.handle(line)
		c.r.Consume(n)
	}
	c.readNext()
}

// handle runs one command line. Input that arrives while IDLE runs is read
// at once, so DONE ends it without waiting for the next push.
func (c *conn) handle(line []byte) {
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
func (c *conn) idlePush(_ *tsocket.Stream, we *tsocket.WaitEvent, _ any) *tsocket.WaitEvent {
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
func (c *conn) idleCheck(_ *tsocket.Stream, we *tsocket.WaitEvent, _ any) *tsocket.WaitEvent {
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
func (c *conn) close(why string) {
	if c.closing || c.done {
		return
	}
	c.send("* BYE " + why)
	c.closing = true
	c.maybeClose()
}

func (c *conn) maybeClose() {
	if c.w.Pending() == 0 || c.w.Err() != nil {
		c.drop()
	}
}

func (c *conn) drained(err error) {
	if err != nil {
		c.drop()
		return
	}
	if c.closing {
		c.drop()
	}
}

// drop closes the stream at once; its wait events go with it.
func (c *conn) drop() {
	if c.done {
		return
	}
	c.done = true
	c.srv.conns.Remove(c)
	c.s.Close()
}
