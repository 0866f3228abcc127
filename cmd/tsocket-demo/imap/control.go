package imap

import (
	"encoding/binary"
	"fmt"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// The control protocol between the server and its hibernation process,
// over the unix socket the server started it with. Every message is a
// fixed header and a body of two parts, a and b:
//
//	offset 0  uint32  length of the body (a and b)
//	       4  uint8   type, below
//	       8  uint32  connection id, chosen by the server
//	      12  uint32  update sequence number
//	      16  uint32  milliseconds since the client's last input
//	      20  uint32  length of a
//
// all big-endian. A message that carries a connection's descriptor
// carries it with its first byte (tsocket.SendFDsSend).
const (
	// msgHibernate (server → hibernation, with the descriptor): take the
	// connection; a is its session.State (MarshalBinary, Input left
	// empty), b the input the server had read and not used.
	msgHibernate = 'H'
	// msgUpdate (server → hibernation): write a, the untagged responses
	// session.Updates made, to the client; seq numbers them.
	msgUpdate = 'U'
	// msgWake (server → hibernation): hand the connection back; it has
	// more to hear than Updates can say.
	msgWake = 'W'
	// msgShutdown (server → hibernation): say BYE to every connection,
	// close them and exit.
	msgShutdown = 'S'
	// msgResume (hibernation → server, with the descriptor): take the
	// connection back. a is the IDLE tag ("" once DONE was answered), b
	// the client's input not answered, seq the last update written.
	msgResume = 'R'
	// msgGone (hibernation → server): the connection is closed (the
	// client left, or was logged out); forget it.
	msgGone = 'G'
)

const (
	ctlHeader = 24
	// ctlMaxBody bounds a message: a State lists its UIDs as runs, so
	// even a large mailbox takes little, and input is at most a line.
	ctlMaxBody = 16 << 20
	// ctlMaxFDs is how many descriptors one read may bring.
	ctlMaxFDs = 16
)

// ctlMsg is one control message, decoded.
type ctlMsg struct {
	typ    byte
	id     uint32
	seq    uint32
	idleMs uint32
	a, b   []byte
	fd     int // the descriptor that came with it, or -1
}

// hasFD reports whether messages of type t carry a descriptor.
func hasFD(t byte) bool { return t == msgHibernate || t == msgResume }

// header encodes m's header for a body of m.a and m.b.
func (m *ctlMsg) header() []byte {
	h := make([]byte, ctlHeader)
	binary.BigEndian.PutUint32(h[0:], uint32(len(m.a)+len(m.b)))
	h[4] = m.typ
	binary.BigEndian.PutUint32(h[8:], m.id)
	binary.BigEndian.PutUint32(h[12:], m.seq)
	binary.BigEndian.PutUint32(h[16:], m.idleMs)
	binary.BigEndian.PutUint32(h[20:], uint32(len(m.a)))
	return h
}

// ctlConn is one end of the control socket: it reads messages with the
// descriptors that come with them (tsocket.RecvFDsSend) and sends its own
// one at a time (tsocket.SendFDsSend). It belongs to the loop goroutine.
type ctlConn struct {
	ev   *tevent.Context
	s    *tsocket.Stream
	rbuf []byte
	in   []byte // bytes read, not yet a whole message
	fds  []int  // descriptors read, waiting for their message
	out  []ctlSend
	busy bool // a send in flight
	dead bool
	// closing: close once what is queued has gone (closeWhenSent).
	closing bool
	onMsg   func(m *ctlMsg)
	onEnd   func(err error) // the socket is gone: EOF, or an error
}

type ctlSend struct {
	iov  [][]byte
	fd   int             // -1 if none
	done func(err error) // may be nil; told once the message is out
}

func newCtlConn(ev *tevent.Context, s *tsocket.Stream, onMsg func(*ctlMsg), onEnd func(error)) *ctlConn {
	c := &ctlConn{ev: ev, s: s, rbuf: make([]byte, 64<<10), onMsg: onMsg, onEnd: onEnd}
	c.read()
	return c
}

func (c *ctlConn) read() {
	req := tsocket.RecvFDsSend(c.ev, c.s, c.rbuf, ctlMaxFDs)
	req.SetCallback(func(req *tevent.Req[tsocket.FDMessage]) {
		n, fds, err := tsocket.RecvFDsRecv(req)
		if c.dead {
			closeAll(fds)
			return
		}
		if err != nil {
			c.fail(err)
			return
		}
		c.fds = append(c.fds, fds...)
		c.in = append(c.in, c.rbuf[:n]...)
		if err := c.parse(); err != nil {
			c.fail(err)
			return
		}
		if !c.dead {
			c.read()
		}
	})
}

// parse hands every whole message read to onMsg.
func (c *ctlConn) parse() error {
	for len(c.in) >= ctlHeader && !c.dead {
		body := binary.BigEndian.Uint32(c.in[0:])
		alen := binary.BigEndian.Uint32(c.in[20:])
		if body > ctlMaxBody || alen > body {
			return fmt.Errorf("imap: control message of %d bytes (part of %d)", body, alen)
		}
		if len(c.in) < ctlHeader+int(body) {
			break
		}
		m := &ctlMsg{typ: c.in[4], id: binary.BigEndian.Uint32(c.in[8:]), seq: binary.BigEndian.Uint32(c.in[12:]),
			idleMs: binary.BigEndian.Uint32(c.in[16:]), fd: -1}
		rest := c.in[ctlHeader : ctlHeader+int(body)]
		// Copies: the reassembly buffer is reused.
		m.a = append([]byte(nil), rest[:alen]...)
		m.b = append([]byte(nil), rest[alen:]...)
		c.in = c.in[ctlHeader+int(body):]
		if hasFD(m.typ) {
			if len(c.fds) == 0 {
				return fmt.Errorf("imap: control message %q came without its descriptor", m.typ)
			}
			m.fd, c.fds = c.fds[0], c.fds[1:]
		}
		c.onMsg(m)
	}
	if len(c.in) == 0 {
		c.in = c.in[:0:0] // let a large buffer go
	}
	return nil
}

// send queues m, with fd (or -1); done, if not nil, is told once the
// message has gone or failed. The descriptor stays the caller's.
func (c *ctlConn) send(m *ctlMsg, fd int, done func(error)) {
	if c.dead {
		if done != nil {
			done(fmt.Errorf("imap: control socket closed"))
		}
		return
	}
	c.out = append(c.out, ctlSend{iov: [][]byte{m.header(), m.a, m.b}, fd: fd, done: done})
	c.next()
}

func (c *ctlConn) next() {
	if c.busy || c.dead {
		return
	}
	if len(c.out) == 0 {
		if c.closing {
			c.close()
		}
		return
	}
	o := c.out[0]
	c.out = c.out[1:]
	var fds []int
	if o.fd >= 0 {
		fds = []int{o.fd}
	}
	c.busy = true
	req := tsocket.SendFDsSend(c.ev, c.s, o.iov, fds)
	req.SetCallback(func(req *tevent.Req[int]) {
		c.busy = false
		_, err := tsocket.SendFDsRecv(req)
		if o.done != nil {
			o.done(err)
		}
		if err != nil {
			c.fail(err)
			return
		}
		c.next()
	})
}

// closeWhenSent closes the socket once every queued message has gone.
func (c *ctlConn) closeWhenSent() {
	c.closing = true
	c.next()
}

// fail ends the control connection: what is queued is told the error.
func (c *ctlConn) fail(err error) {
	if c.dead {
		return
	}
	c.close()
	c.onEnd(err)
}

// close closes the socket; queued messages are told they failed, and
// descriptors received for messages not yet whole are closed.
func (c *ctlConn) close() {
	if c.dead {
		return
	}
	c.dead = true
	c.s.Close()
	closeAll(c.fds)
	c.fds = nil
	out := c.out
	c.out = nil
	for _, o := range out {
		if o.done != nil {
			o.done(fmt.Errorf("imap: control socket closed"))
		}
	}
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
