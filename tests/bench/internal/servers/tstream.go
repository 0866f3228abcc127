package servers

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// The gotevent servers written as a tsocket user writes them: AcceptSend
// for connections, WritevSend for replies, and one of two ways to read.
//
//   - gotevent: ReadSomeFuncSend, one read per arrival, as net.Conn.Read,
//     into the loop's current buffer, which is handed over only once the
//     socket is readable: an idle connection holds no buffer. The reply
//     is written from that buffer; if the write cannot finish at once it
//     keeps the buffer and the loop takes another from its free list.
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
				ls.getFn = ls.current
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
	cur    []byte // the buffer the next ReadSomeFuncSend reads into
	closed bool
	some   bool // read with ReadSomeFuncSend

	getFn func() []byte // lp.current, bound once
}

// current is the ReadSomeFuncSend buffer function: the loop's buffer.
func (lp *tsLoop) current() []byte {
	if lp.cur == nil {
		lp.cur = lp.getBuf()
	}
	return lp.cur
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
		c := &tsConn{lp: lp, s: s}
		c.writeFn, c.someFn = c.writeDone, c.readSomeDone
		if !lp.some {
			c.pdu = &tsPDU{}
			c.pdu.nextFn, c.pdu.readFn = c.next, c.readDone
		}
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

// tsConn is one connection.
type tsConn struct {
	lp   *tsLoop
	s    *tsocket.Stream
	sink Counter

	wbuf    []byte // the buffer in the writev in flight, back to the free list once written
	wiov    [1][]byte
	out     []byte // replies gathered while a writev is in flight
	writing bool
	reading bool
	done    bool

	pdu *tsPDU // gotevent-pdu only

	writeFn func(*tevent.Req[int])
	someFn  func(*tevent.Req[[]byte])
}

// tsPDU is gotevent-pdu's read state, a small machine driven by the
// ReadvPDU engine through next: phase 0 asks the socket how much is
// pending and reads that (or one byte when nothing is there yet, which
// makes the engine wait), phase 1 follows a one-byte read with what became
// pending meanwhile, phase 2 ends the PDU.
type tsPDU struct {
	phase int
	one   [1]byte
	buf   []byte // the read buffer being filled (from the loop's free list)
	n     int    // bytes of buf the current PDU fills
	vec   [1][]byte

	nextFn tsocket.NextVectorFunc
	readFn func(*tevent.Req[struct{}])
}

// maxPending is how much unwritten output stops reading (backpressure).
const maxPending = 4 << 20

func (c *tsConn) readNext() {
	if c.reading || c.done || len(c.out) > maxPending {
		return
	}
	c.reading = true
	if c.pdu == nil {
		tsocket.ReadSomeFuncSend(c.lp.ev, c.s, c.lp.getFn).SetCallback(c.someFn)
		return
	}
	c.pdu.phase = 0
	tsocket.ReadvPDUSend(c.lp.ev, c.s, c.pdu.nextFn).SetCallback(c.pdu.readFn)
}

func (c *tsConn) readSomeDone(subreq *tevent.Req[[]byte]) {
	c.reading = false
	p, err := tsocket.ReadSomeFuncRecv(subreq)
	if c.done {
		return
	}
	if err != nil {
		c.close()
		return
	}
	if c.lp.cfg.Mode == Sink {
		if k := c.sink.Add(len(p)); k > 0 {
			c.write(Acks(k))
		}
	} else if c.write(p) {
		// The writev in flight holds the loop's buffer: it is this
		// connection's until written, and the loop takes another.
		c.wbuf = c.lp.cur
		c.lp.cur = nil
	}
	c.readNext()
}

func (c *tsConn) next(s *tsocket.Stream) ([][]byte, error) {
	switch c.pdu.phase {
	case 0:
		p, err := s.PendingBytes()
		if err != nil {
			return nil, err
		}
		if p == 0 {
			c.pdu.phase = 1
			c.pdu.vec[0] = c.pdu.one[:]
			return c.pdu.vec[:], nil
		}
		c.pdu.buf = c.lp.getBuf()
		c.pdu.n = min(p, len(c.pdu.buf))
		c.pdu.phase = 2
		c.pdu.vec[0] = c.pdu.buf[:c.pdu.n]
		return c.pdu.vec[:], nil
	case 1:
		c.pdu.buf = c.lp.getBuf()
		c.pdu.buf[0] = c.pdu.one[0]
		c.pdu.n = 1
		p, err := s.PendingBytes()
		if err != nil || p == 0 {
			c.pdu.phase = 2
			return nil, err
		}
		take := min(p, len(c.pdu.buf)-1)
		c.pdu.vec[0] = c.pdu.buf[1 : 1+take]
		c.pdu.n += take
		c.pdu.phase = 2
		return c.pdu.vec[:], nil
	}
	c.pdu.vec[0] = nil
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
	buf := c.pdu.buf[:c.pdu.n]
	c.pdu.buf = nil
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
