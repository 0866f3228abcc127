package imap

import (
	"bytes"
	"fmt"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// HibernatorConfig holds the timings of the hibernation process; they are
// the server's (HibernatorArgs passes them).
type HibernatorConfig struct {
	KeepAlive   time.Duration
	IdleTimeout time.Duration
	ByeTimeout  time.Duration
	Logf        func(format string, args ...any)
	// ReturnMemory, if set, is called on the loop a second after
	// connections were taken in (at most once a second while they
	// come), as the server's Config.ReturnMemory is.
	ReturnMemory func()
}

// Hibernator is the hibernation process, Dovecot's imap-hibernate: it
// holds connections idling in IDLE with as little as a connection can
// cost, and answers what State's documentation lists without a session:
// keep-alives, DONE (and DONE with IDLE at once), the updates the server
// sends; anything else goes back to the server with the input read.
//
// Each connection is a stream without a Reader (one read in flight, a
// ReadSomeFuncSend into a buffer shared by all) and a small hconn. The
// keep-alives of all connections are one timer: every connection waits
// the same interval, so a FIFO ordered by when each is due is kept sorted
// by appending, and the timer is the head's. The autologout is checked
// there too, so it comes within KeepAlive after IdleTimeout.
//
// A Hibernator belongs to its loop goroutine.
type Hibernator struct {
	ev    *tevent.Context
	cfg   HibernatorConfig
	ctl   *ctlConn
	conns map[uint32]*hconn
	head  *hconn // the keep-alive FIFO, earliest first
	tail  *hconn
	timer *tevent.Timer
	mem   memoryReturn // after connections were taken in
	buf   []byte       // the read buffer every connection shares
	stop  bool         // shutting down: no new connections, BYE to the rest
	exit  func()       // told once the last connection is closed after stop
}

// hconn is one hibernated connection.
type hconn struct {
	s          *tsocket.Stream
	id, seq    uint32
	tag        string // the IDLE in progress; "" once DONE was answered
	in         []byte // input read and not answered (nil normally)
	out        []byte // output waiting for the write in flight (nil normally)
	due        int64  // next keep-alive, Unix nanoseconds
	lastIn     int64  // last input, Unix nanoseconds
	prev, next *hconn
	read       *tevent.Req[[]byte]
	byeTimer   *tevent.Timer // resets a closing connection
	writing    bool
	waking     bool // going back to the server once nothing is in flight
	closing    bool // BYE sent; closed once written, or after ByeTimeout
}

// maxHibernatedInput is the most unanswered input a hibernated connection
// holds before it goes back: a line of that length is not DONE or IDLE.
const maxHibernatedInput = 512

var (
	keepAliveLine = []byte("* OK Still here\r\n")
	shutdownLine  = []byte("* BYE Server shutting down\r\n")
	autologout    = []byte("* BYE Autologout; idle for too long\r\n")
	idlingLine    = []byte("+ idling\r\n")
)

// RunHibernator serves the control socket ctl until it closes: it runs
// the hibernation process on ev, whose loop the caller then runs
// (LoopWait returns once the server is gone and every connection closed).
func RunHibernator(ev *tevent.Context, ctl *tsocket.Stream, cfg HibernatorConfig) *Hibernator {
	h := &Hibernator{ev: ev, cfg: cfg, conns: map[uint32]*hconn{}, buf: make([]byte, 4096)}
	h.mem = memoryReturn{ev: ev, fn: cfg.ReturnMemory}
	h.ctl = newCtlConn(ev, ctl, h.message, h.ended)
	return h
}

// Conns returns how many connections the hibernation process holds.
func (h *Hibernator) Conns() int { return len(h.conns) }

func (h *Hibernator) logf(format string, args ...any) {
	if h.cfg.Logf != nil {
		h.cfg.Logf(format, args...)
	}
}

// message handles what the server says.
func (h *Hibernator) message(m *ctlMsg) {
	switch m.typ {
	case msgHibernate:
		h.take(m)
	case msgUpdate:
		if c := h.conns[m.id]; c != nil && !c.closing {
			c.seq = m.seq
			h.write(c, m.a)
		} // else it is on its way back, and the server knows from seq
	case msgWake:
		if c := h.conns[m.id]; c != nil {
			h.wake(c)
		}
	case msgShutdown:
		h.Shutdown()
	default:
		h.logf("imap-hibernate: unexpected message %q", m.typ)
		if m.fd >= 0 {
			unix.Close(m.fd)
		}
	}
}

// take adopts a connection the server hands over.
func (h *Hibernator) take(m *ctlMsg) {
	var st session.State
	err := st.UnmarshalBinary(m.a)
	if err != nil || st.Tag == "" || h.stop {
		if err != nil {
			h.logf("imap-hibernate: connection %d: %v", m.id, err)
		}
		unix.Close(m.fd)
		h.ctl.send(&ctlMsg{typ: msgGone, id: m.id}, -1, nil)
		return
	}
	s, err := tsocket.ExistingSocket(h.ev, m.fd)
	if err != nil {
		h.logf("imap-hibernate: connection %d: %v", m.id, err)
		unix.Close(m.fd)
		h.ctl.send(&ctlMsg{typ: msgGone, id: m.id}, -1, nil)
		return
	}
	now := h.ev.Now().UnixNano()
	c := &hconn{s: s, id: m.id, tag: st.Tag, lastIn: now - int64(m.idleMs)*int64(time.Millisecond)}
	if len(m.b) > 0 {
		c.in = m.b
	}
	h.conns[c.id] = c
	h.mem.poke() // the hand-over's message and state are garbage now
	h.schedule(c, now)
	h.input(c) // DONE may have come already
	h.readNext(c)
}

// readNext waits for the client's next bytes, into the shared buffer.
func (h *Hibernator) readNext(c *hconn) {
	if c.waking || c.closing || c.read != nil {
		return
	}
	c.read = tsocket.ReadSomeFuncSend(h.ev, c.s, h.shared)
	c.read.SetCallback(func(req *tevent.Req[[]byte]) {
		c.read = nil
		b, err := tsocket.ReadSomeFuncRecv(req)
		if err != nil {
			h.drop(c) // EOF or reset: the client has gone
			return
		}
		c.lastIn = h.ev.Now().UnixNano()
		c.in = append(c.in, b...) // a copy: the buffer is shared
		h.input(c)
		h.readNext(c)
	})
}

func (h *Hibernator) shared() []byte { return h.buf }

// input answers what the client sent, or sends it back to the server.
func (h *Hibernator) input(c *hconn) {
	for !c.waking && !c.closing {
		i := bytes.IndexByte(c.in, '\n')
		if i < 0 {
			break
		}
		line := c.in[:i+1]
		switch t := idleCommand(line); {
		case c.tag != "" && bytes.EqualFold(trimCRLF(line), []byte("DONE")):
			h.write(c, fmt.Appendf(nil, "%s OK IDLE terminated\r\n", c.tag))
			c.tag = ""
		case c.tag == "" && t != "":
			h.write(c, idlingLine)
			c.tag = t
		default:
			h.wake(c)
			return
		}
		c.in = c.in[i+1:]
	}
	switch {
	case c.waking || c.closing:
	case c.tag == "" || len(c.in) > maxHibernatedInput:
		h.wake(c) // out of IDLE, or a line that is no DONE
	case len(c.in) == 0:
		c.in = nil
	}
}

// idleCommand returns the tag of an "<tag> IDLE" line, or "".
func idleCommand(line []byte) string {
	tag, cmd, ok := bytes.Cut(trimCRLF(line), []byte(" "))
	if !ok || len(tag) == 0 || !bytes.EqualFold(cmd, []byte("IDLE")) {
		return ""
	}
	for _, b := range tag {
		if b <= ' ' || b >= 0x7f || bytes.IndexByte([]byte(`(){%*"\+`), b) >= 0 {
			return ""
		}
	}
	return string(tag)
}

func trimCRLF(b []byte) []byte {
	return bytes.TrimSuffix(bytes.TrimSuffix(b, []byte("\n")), []byte("\r"))
}

// write sends b to the client, after what is in flight.
func (h *Hibernator) write(c *hconn, b []byte) {
	if c.writing {
		c.out = append(c.out, b...)
		return
	}
	c.writing = true
	req := tsocket.WritevSend(h.ev, c.s, [][]byte{b})
	req.SetCallback(func(req *tevent.Req[int]) {
		c.writing = false
		if _, err := tsocket.WritevRecv(req); err != nil {
			h.drop(c)
			return
		}
		switch {
		case len(c.out) > 0:
			out := c.out
			c.out = nil
			h.write(c, out)
		case c.closing:
			h.drop(c)
		case c.waking:
			h.handBack(c)
		}
	})
}

// wake sends the connection back to the server once nothing is in
// flight on it.
func (h *Hibernator) wake(c *hconn) {
	if c.waking || c.closing {
		return
	}
	c.waking = true
	if c.read != nil {
		// A ReadSomeFunc read calls back straight from the read, so one
		// still in flight holds no bytes.
		c.read.Abandon()
		c.read = nil
	}
	if !c.writing {
		h.handBack(c)
	}
}

// handBack detaches the connection and sends it, with its unanswered
// input, to the server.
func (h *Hibernator) handBack(c *hconn) {
	h.unschedule(c)
	delete(h.conns, c.id)
	fd, err := c.s.Detach()
	if err != nil {
		h.logf("imap-hibernate: connection %d: %v", c.id, err)
		c.s.Close()
		h.ctl.send(&ctlMsg{typ: msgGone, id: c.id}, -1, nil)
		return
	}
	idle := time.Duration(h.ev.Now().UnixNano() - c.lastIn)
	m := &ctlMsg{typ: msgResume, id: c.id, seq: c.seq, idleMs: millis(idle), a: []byte(c.tag), b: c.in}
	h.ctl.send(m, fd, func(error) {
		unix.Close(fd) // sent, or the server is gone and the client with it
	})
	h.maybeExit()
}

// bye says BYE and closes the connection once it is written, or resets
// it after ByeTimeout if the client does not take it.
func (h *Hibernator) bye(c *hconn, line []byte) {
	if c.closing || c.waking {
		return
	}
	h.write(c, line)
	c.closing = true
	if c.read != nil {
		c.read.Abandon()
		c.read = nil
	}
	h.unschedule(c)
	c.byeTimer = h.ev.AddTimer(h.ev.Now().Add(h.cfg.ByeTimeout), func(*tevent.Timer, time.Time) {
		c.byeTimer = nil
		if err := c.s.SetLinger(0); err != nil {
			h.logf("imap-hibernate: connection %d: %v", c.id, err)
		}
		h.drop(c)
	})
}

// drop closes the connection and tells the server.
func (h *Hibernator) drop(c *hconn) {
	if h.conns[c.id] != c {
		return
	}
	h.unschedule(c)
	if c.byeTimer != nil {
		c.byeTimer.Cancel()
		c.byeTimer = nil
	}
	delete(h.conns, c.id)
	c.s.Close()
	h.ctl.send(&ctlMsg{typ: msgGone, id: c.id}, -1, nil)
	h.maybeExit()
}

// schedule puts c at the end of the keep-alive FIFO.
func (h *Hibernator) schedule(c *hconn, now int64) {
	c.due = now + int64(h.cfg.KeepAlive)
	c.prev, c.next = h.tail, nil
	if h.tail != nil {
		h.tail.next = c
	} else {
		h.head = c
	}
	h.tail = c
	if h.timer == nil {
		h.timer = h.ev.AddTimer(time.Unix(0, h.head.due), h.tick)
	}
}

// unschedule takes c out of the FIFO.
func (h *Hibernator) unschedule(c *hconn) {
	if c.prev == nil && h.head != c {
		return // not in it
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		h.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		h.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

// tick is the keep-alive timer: every connection due gets a keep-alive,
// or the autologout once its client has said nothing for IdleTimeout.
func (h *Hibernator) tick(te *tevent.Timer, at time.Time) {
	now := h.ev.Now().UnixNano()
	for h.head != nil && h.head.due <= now {
		c := h.head
		h.unschedule(c)
		if now-c.lastIn >= int64(h.cfg.IdleTimeout) {
			h.bye(c, autologout)
			continue
		}
		if !c.writing { // a client that does not read gets no more
			h.write(c, keepAliveLine)
		}
		h.schedule(c, now)
	}
	if h.head == nil {
		te.Cancel()
		h.timer = nil
		return
	}
	te.Reset(time.Unix(0, h.head.due))
}

// Shutdown says BYE to every connection and closes the control socket
// once they are closed, which ends the process's loop.
func (h *Hibernator) Shutdown() {
	h.stop = true
	h.mem.stop()
	for _, c := range h.conns {
		h.bye(c, shutdownLine)
	}
	h.maybeExit()
}

// ended is the control socket's end: the server has gone, and its clients
// are told so.
func (h *Hibernator) ended(err error) {
	if !h.stop {
		h.logf("imap-hibernate: control socket: %v", err)
	}
	h.Shutdown()
}

// maybeExit closes the control socket once shutdown has closed the last
// connection: the server's read sees EOF, and this loop runs out of
// events.
func (h *Hibernator) maybeExit() {
	if h.stop && len(h.conns) == 0 {
		h.ctl.closeWhenSent()
		if h.timer != nil {
			h.timer.Cancel()
			h.timer = nil
		}
		if h.exit != nil {
			exit := h.exit
			h.exit = nil
			exit()
		}
	}
}

// OnExit sets fn to be called once the hibernation process has shut down
// (its loop has nothing left but what the caller added, a signal say).
func (h *Hibernator) OnExit(fn func()) { h.exit = fn }
