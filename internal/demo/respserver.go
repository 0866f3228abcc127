package demo

import (
	"errors"
	"io"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// MaxRESPOutput is how many reply bytes may wait for a slow reader before
// the server stops reading that connection's requests (backpressure).
const MaxRESPOutput = 4 << 20

var errBufferFull = errors.New("request larger than the connection buffer")

// RESPServer serves a RESP subset (PING, ECHO, SET, GET, DEL, EXISTS, INCR,
// QUIT, and the COMMAND and CONFIG answers redis-cli and redis-benchmark
// ask for) on one loop. Requests may be pipelined; replies go out in order,
// gathered into one writev per turn. It belongs to the loop goroutine.
type RESPServer struct {
	ev    *tevent.Context
	acc   acceptor
	store *Store
	conns map[*respConn]struct{}
	buf   []byte // the read buffer every connection of the loop shares
	// Log, if set, is told about accept errors and protocol errors.
	Log func(format string, args ...any)
}

// NewRESPServer serves on l, which it takes over, with store (one per loop).
func NewRESPServer(ev *tevent.Context, l *tsocket.Listener, store *Store) *RESPServer {
	srv := &RESPServer{ev: ev, store: store, conns: make(map[*respConn]struct{}), buf: make([]byte, sharedReadBuf)}
	srv.acc = acceptor{ev: ev, l: l, serve: srv.serve, logf: srv.logf, name: "resp"}
	srv.acc.next()
	return srv
}

// Conns returns the number of open connections.
func (srv *RESPServer) Conns() int { return len(srv.conns) }

// Close stops accepting and closes every connection.
func (srv *RESPServer) Close() {
	if !srv.acc.close() {
		return
	}
	for c := range srv.conns {
		c.close()
	}
}

func (srv *RESPServer) logf(format string, args ...any) {
	if srv.Log != nil {
		srv.Log(format, args...)
	}
}

func (srv *RESPServer) serve(s *tsocket.Stream) {
	c := &respConn{srv: srv, s: s}
	c.r = reader{max: MaxRESPBuffer, shared: srv.buf}
	c.w = writer{ev: srv.ev, s: s, drained: c.drained}
	srv.conns[c] = struct{}{}
	c.readNext()
}

type respConn struct {
	srv     *RESPServer
	s       *tsocket.Stream
	r       reader
	w       writer
	args    [][]byte
	reading bool
	quit    bool
	done    bool
}

func (c *respConn) readNext() {
	if c.reading || c.done || c.quit {
		return
	}
	subreq, err := c.r.readSome(c.srv.ev, c.s)
	if err != nil {
		// A command larger than the buffer cap: refuse it and close.
		c.srv.logf("resp: %v: %v", c.s.RemoteAddress(), err)
		c.quit = true
		c.w.write(AppendRESPError(nil, err))
		return
	}
	c.reading = true
	subreq.SetCallback(c.readDone)
}

func (c *respConn) readDone(subreq *tevent.Req[[]byte]) {
	c.reading = false
	p, err := tsocket.ReadSomeFuncRecv(subreq)
	if c.done {
		return
	}
	c.r.filled(p)
	defer c.r.keep() // a partial command leaves the shared buffer
	if err != nil {
		if errors.Is(err, ErrProtocol) || errors.Is(err, errBufferFull) {
			// Answer as Redis does, then close once the reply is out.
			c.srv.logf("resp: %v: %v", c.s.RemoteAddress(), err)
			c.quit = true
			c.w.write(AppendRESPError(nil, err))
			return
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			c.srv.logf("resp: %v: read: %v", c.s.RemoteAddress(), err)
		}
		c.close()
		return
	}
	// Execute every complete command buffered; pipelined requests arrive
	// together and their replies leave together.
	out := c.w.out
	for !c.quit {
		args, n, err := ParseRESP(c.r.in, c.args[:0])
		if err != nil {
			out = AppendRESPError(out, err)
			c.quit = true
			break
		}
		if n == 0 {
			break
		}
		if args != nil {
			out, c.quit = c.srv.store.Exec(args, out)
		}
		c.args = args[:0]
		c.r.consume(n)
	}
	clear(c.args[:cap(c.args)])
	c.w.out = out
	c.w.flush()
	if c.w.pending() < MaxRESPOutput {
		c.readNext()
	}
}

// drained runs when the writer has written everything it had, or failed.
func (c *respConn) drained(err error) {
	if err != nil || c.quit {
		c.close()
		return
	}
	c.readNext() // in case backpressure had paused reading
}

func (c *respConn) close() {
	if c.done {
		return
	}
	c.done = true
	delete(c.srv.conns, c)
	c.s.Close()
}
