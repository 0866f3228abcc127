package resp

import (
	"errors"
	"io"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/demoserver"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// MaxOutput is how many reply bytes may wait for a slow reader before
// the server stops reading that connection's requests (backpressure).
const MaxOutput = 4 << 20

// Server serves a RESP subset (PING, ECHO, SET, GET, DEL, EXISTS, INCR,
// QUIT, and the COMMAND and CONFIG answers redis-cli and redis-benchmark
// ask for) on one loop. Requests may be pipelined; replies go out in order,
// gathered into one writev per turn. It belongs to the loop goroutine.
type Server struct {
	ev    *tevent.Context
	conns *demoserver.Conns[*conn]
	store *Store
	// Log, if set, is told about accept errors and protocol errors.
	Log func(format string, args ...any)
}

// NewServer serves on l, which it takes over, with store (one per loop).
func NewServer(ev *tevent.Context, l *tsocket.Listener, store *Store) *Server {
	srv := &Server{ev: ev, store: store}
	srv.conns = demoserver.NewConns[*conn](ev, l, "resp", srv.serve, srv.logf)
	return srv
}

// Conns returns the number of open connections.
func (srv *Server) Conns() int { return srv.conns.Len() }

// Close stops accepting and closes every connection.
func (srv *Server) Close() {
	srv.conns.Close((*conn).close)
}

func (srv *Server) logf(format string, args ...any) {
	if srv.Log != nil {
		srv.Log(format, args...)
	}
}

func (srv *Server) serve(s *tsocket.Stream) {
	c := &conn{srv: srv, s: s, r: demoserver.NewReader(MaxBuffer, srv.conns.Shared())}
	c.w = demoserver.NewWriter(srv.ev, s, c.drained)
	srv.conns.Add(c)
	c.readNext()
}

// conn is one client connection of a Server.
type conn struct {
	srv  *Server
	s    *tsocket.Stream
	r    demoserver.Reader
	w    demoserver.Writer
	args [][]byte
	quit bool
	done bool
}

func (c *conn) readNext() {
	if c.r.Reading() || c.done || c.quit {
		return
	}
	if err := c.r.Read(c.srv.ev, c.s, c.readDone); err != nil {
		// A command larger than the buffer cap: refuse it and close.
		c.srv.logf("resp: %v: %v", c.s.RemoteAddress(), err)
		c.quit = true
		c.w.Write(AppendError(nil, err))
	}
}

// readDone runs the commands a read completed.
func (c *conn) readDone(err error) {
	if c.done {
		return
	}
	if err != nil {
		if errors.Is(err, ErrProtocol) || errors.Is(err, demoserver.ErrBufferFull) {
			// Answer as Redis does, then close once the reply is out.
			c.srv.logf("resp: %v: %v", c.s.RemoteAddress(), err)
			c.quit = true
			c.w.Write(AppendError(nil, err))
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
	out := c.w.Buffer()
	for !c.quit {
		args, n, err := Parse(c.r.Buffered(), c.args[:0])
		if err != nil {
			out = AppendError(out, err)
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
		c.r.Consume(n)
	}
	clear(c.args[:cap(c.args)])
	c.w.Flush(out)
	if c.w.Pending() < MaxOutput {
		c.readNext()
	}
}

// drained runs when the writer has written everything it had, or failed.
func (c *conn) drained(err error) {
	if err != nil || c.quit {
		c.close()
		return
	}
	c.readNext() // in case backpressure had paused reading
}

func (c *conn) close() {
	if c.done {
		return
	}
	c.done = true
	c.srv.conns.Remove(c)
	c.s.Close()
}
