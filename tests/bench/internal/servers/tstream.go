package servers

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// The gotevent servers written as a tsocket user writes them: AcceptSend
// for connections, WritevSend for replies, and one of two ways to read.
//
//   - gotevent: ReadSomeSend, one read per arrival into the connection's
//     buffer, as net.Conn.Read (and the demo's servers). The buffer starts
//     at 512 bytes and doubles, up to Config.Buf, each time a read fills
//     it, so an idle connection holds little.
//   - gotevent-pdu: ReadvPDUSend whose vectors are sized by PendingBytes
//     (at least one byte, then what the socket holds), the pattern the
//     demo used before ReadSomeSend; read buffers come from a per-loop free
//     list.
//
// The next read starts as soon as one finishes, alongside the write of
// what it brought.

func init() {
	for name, some := range map[string]bool{"gotevent": true, "gotevent-pdu": false} {
		register(name, func(cfg Config) (Server, error) {
			return startTeventGroup(cfg, func(ev *tevent.Context, l *tsocket.Listener) (loopServer, error) {
				ls := &tsLoop{ev: ev, l: l, cfg: cfg, some: some, conns: make(map[*tsConn]struct{})}
				ls.acceptNext()
				return ls, nil
			})
		})
	}
}

type tsLoop struct {
	ev     *tevent.Context
	l      *tsocket.Listener
	cfg    Config
	accept *tevent.Req[*tsocket.Stream]
	conns  map[*tsConn]struct{}
	free   [][]byte
	closed bool
	some   bool // read with ReadSomeSend
}

func (lp *tsLoop) getBuf() []byte {
	if n := len(lp.free); n > 0 {
		b := lp.free[n-1]
		lp.free[n-1] = nil
		lp.free = lp.free[:n-1]
		return b
	}
	return make([]byte, lp.cfg.Buf)
}

// maxFree bounds the loop's free list: enough for the writes in flight in
// one turn of a busy loop, little against an idle server's memory.
const maxFree = 16

func (lp *tsLoop) putBuf(b []byte) {
	if cap(b) == lp.cfg.Buf && len(lp.free) < maxFree {
		lp.free = append(lp.free, b[:cap(b)])
	}
}

func (lp *tsLoop) acceptNext() {
	lp.accept = tsocket.AcceptSend(lp.ev, lp.l)
	lp.accept.SetCallback(lp.acceptDone)
}

func (lp *tsLoop) acceptDone(subreq *tevent.Req[*tsocket.Stream]) {
	lp.accept = nil
	s, err := tsocket.AcceptRecv(subreq)
	if lp.closed {
		if s != nil {
			s.Close()
		}
		return
	}
	if err == nil {
		c := &tsConn{lp: lp, s: s, rsize: minRead}
		c.nextFn, c.readFn, c.writeFn, c.someFn = c.next, c.readDone, c.writeDone, c.readSomeDone
		lp.conns[c] = struct{}{}
		c.readNext()
	}
	lp.acceptNext()
}

func (lp *tsLoop) closeAll() {
	lp.closed = true
	if lp.accept != nil {
		lp.accept.Abandon()
	}
	lp.l.Close()
	for c := range lp.conns {
		c.close()
	}
}

// tsConn is one connection. Its read state is a small machine driven by
// the ReadvPDU engine through next: phase 0 asks the socket how much is
// pending and reads that (or one byte when nothing is there yet, which
// makes the engine wait), phase 1 follows a one-byte read with what became
// pending meanwhile, phase 2 ends the PDU.
type tsConn struct {
	lp    *tsLoop
	s     *tsocket.Stream
	phase int
	one   [1]byte
	buf   []byte // the read buffer being filled (from the loop's free list)
	n     int    // bytes of buf the current PDU fills
	vec   [1][]byte
	sink  Counter

	wbuf    []byte // the buffer in the writev in flight
	wiov    [1][]byte
	writing bool
	out     []byte // replies gathered while a writev is in flight
	reading bool
	done    bool

	rbuf  []byte // ReadSomeSend's buffer
	rsize int    // the size of the next one

	nextFn  tsocket.NextVectorFunc
	readFn  func(*tevent.Req[struct{}])
	writeFn func(*tevent.Req[int])
	someFn  func(*tevent.Req[int])
}

// minRead is the first ReadSomeSend buffer of a connection.
const minRead = 512

// maxPending is how much unwritten output stops reading (backpressure).
const maxPending = 4 << 20

func (c *tsConn) readNext() {
	if c.reading || c.done || len(c.out) > maxPending {
		return
	}
	c.reading = true
	if c.lp.some {
		if c.rbuf == nil {
			c.rbuf = make([]byte, c.rsize)
		}
		tsocket.ReadSomeSend(c.lp.ev, c.s, c.rbuf).SetCallback(c.someFn)
		return
	}
	c.phase = 0
	tsocket.ReadvPDUSend(c.lp.ev, c.s, c.nextFn).SetCallback(c.readFn)
}

func (c *tsConn) readSomeDone(subreq *tevent.Req[int]) {
	c.reading = false
	n, err := tsocket.ReadSomeRecv(subreq)
	if c.done {
		return
	}
	if err != nil {
		c.close()
		return
	}
	p := c.rbuf[:n]
	if n == len(c.rbuf) && c.rsize < c.lp.cfg.Buf {
		c.rsize = min(2*c.rsize, c.lp.cfg.Buf)
	}
	if c.lp.cfg.Mode == Sink {
		if k := c.sink.Add(n); k > 0 {
			c.write(Acks(k))
		}
	} else if c.write(p) {
		c.rbuf = nil // the writev in flight holds it
	}
	if len(c.rbuf) < c.rsize {
		c.rbuf = nil // outgrown
	}
	c.readNext()
}

func (c *tsConn) next(s *tsocket.Stream) ([][]byte, error) {
	switch c.phase {
	case 0:
		p, err := s.PendingBytes()
		if err != nil {
			return nil, err
		}
		if p == 0 {
			c.phase = 1
			c.vec[0] = c.one[:]
			return c.vec[:], nil
		}
		c.buf = c.lp.getBuf()
		c.n = min(p, len(c.buf))
		c.phase = 2
		c.vec[0] = c.buf[:c.n]
		return c.vec[:], nil
	case 1:
		c.buf = c.lp.getBuf()
		c.buf[0] = c.one[0]
		c.n = 1
		p, err := s.PendingBytes()
		if err != nil || p == 0 {
			c.phase = 2
			return nil, err
		}
		take := min(p, len(c.buf)-1)
		c.vec[0] = c.buf[1 : 1+take]
		c.n += take
		c.phase = 2
		return c.vec[:], nil
	}
	c.vec[0] = nil
	return nil, nil
}

func (c *tsConn) readDone(subreq *tevent.Req[struct{}]) {
	c.reading = false
	err := tsocket.ReadvPDURecv(subreq)
	if c.done {
		return
	}
	if err != nil {
		c.close()
		return
	}
	buf := c.buf[:c.n]
	c.buf = nil
	if c.lp.cfg.Mode == Sink {
		if k := c.sink.Add(len(buf)); k > 0 {
			c.write(Acks(k))
		}
		c.lp.putBuf(buf)
	} else if c.write(buf) {
		c.wbuf = buf // back to the free list once written
	} else {
		c.lp.putBuf(buf)
	}
	c.readNext()
}

// write sends p, or queues a copy behind the writev in flight. It reports
// whether a writev still holds p: one that wrote everything at once has
// finished, and p is the caller's again.
func (c *tsConn) write(p []byte) bool {
	if c.writing {
		c.out = append(c.out, p...)
		return false
	}
	c.writing = true
	c.wiov[0] = p
	req := tsocket.WritevSend(c.lp.ev, c.s, c.wiov[:])
	req.SetCallback(c.writeFn)
	return req.IsInProgress()
}

func (c *tsConn) writeDone(subreq *tevent.Req[int]) {
	c.writing = false
	c.wiov[0] = nil
	_, err := tsocket.WritevRecv(subreq)
	if c.wbuf != nil {
		c.lp.putBuf(c.wbuf)
		c.wbuf = nil
	}
	if c.done {
		return
	}
	if err != nil {
		c.close()
		return
	}
	if len(c.out) > 0 {
		out := c.out
		c.out = nil
		c.write(out)
	}
	c.readNext() // in case backpressure paused reading
}

func (c *tsConn) close() {
	if c.done {
		return
	}
	c.done = true
	delete(c.lp.conns, c)
	c.s.Close()
}
