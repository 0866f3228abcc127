package imap

import (
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/demoserver"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Config sets the timings of the IMAP-style server.
type Config struct {
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

func (cfg *Config) fill() {
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

// Server serves the IMAP-style tagged line protocol on one loop:
// CAPABILITY, NOOP, IDLE (ended by DONE), LOGOUT, and "BAD" for anything
// else. During IDLE a wait event pushes updates and keep-alives; a wait
// event also closes connections silent for longer than IdleTimeout. It
// belongs to the loop goroutine.
type Server struct {
	ev    *tevent.Context
	conns *demoserver.Conns[*conn]
	cfg   Config
	// Log, if set, is told what happens to connections.
	Log func(format string, args ...any)
}

// NewServer serves on l, which it takes over.
func NewServer(ev *tevent.Context, l *tsocket.Listener, cfg Config) *Server {
	cfg.fill()
	srv := &Server{ev: ev, cfg: cfg}
	srv.conns = demoserver.NewConns[*conn](ev, l, "line", srv.Serve, srv.logf)
	return srv
}

// Conns returns the number of open connections.
func (srv *Server) Conns() int { return srv.conns.Len() }

// Close stops accepting and closes every connection.
func (srv *Server) Close() {
	srv.conns.Close(func(c *conn) {
		// The BYE goes to the kernel inside WritevSend; close at once, as
		// the loop may stop before a write callback could run.
		c.send("* BYE server shutting down")
		c.drop()
	})
}

func (srv *Server) logf(format string, args ...any) {
	if srv.Log != nil {
		srv.Log(format, args...)
	}
}

// Serve runs the protocol on a connected stream, which the server takes
// over: one it accepted itself, or one made elsewhere (a socketpair).
func (srv *Server) Serve(s *tsocket.Stream) {
	c := &conn{srv: srv, s: s, r: demoserver.NewReader(MaxLine, srv.conns.Shared()), last: srv.ev.Now()}
	c.w = demoserver.NewWriter(srv.ev, s, c.drained)
	srv.conns.Add(c)
	c.timeout = s.AddWaitEvent(c.last.Add(srv.cfg.IdleTimeout), c.idleCheck, nil)
	c.send(srv.cfg.Greeting)
	c.readNext()
}
