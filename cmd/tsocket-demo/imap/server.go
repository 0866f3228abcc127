package imap

import (
	"crypto/tls"
	"errors"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// The defaults of Config's zero fields.
const (
	// DefaultIdleTimeout is RFC 3501's minimum autologout timer (section
	// 5.4): a client that sends nothing for this long is logged out, in
	// IDLE too (RFC 2177 asks clients to re-issue IDLE every 29 minutes).
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultKeepAlive is the interval of "* OK Still here" during IDLE,
	// short enough for NAT boxes that forget a connection after a few
	// minutes.
	DefaultKeepAlive = 2 * time.Minute
	// DefaultByeTimeout bounds how long a BYE, and the replies queued
	// before it, may wait for a client that does not read: past it the
	// connection is reset (SO_LINGER 0) and its descriptor released.
	DefaultByeTimeout = 5 * time.Second
	// DefaultHandshakeTimeout bounds a STARTTLS handshake.
	DefaultHandshakeTimeout = 30 * time.Second
	// DefaultOutputSoft is the output queued past which a client is not
	// read until it has taken half of it.
	DefaultOutputSoft = 1 << 20
	// DefaultOutputHard is the most output a client may make the server
	// hold: room for the largest literal a FETCH sends in one piece
	// (proto.DefaultLimits' MaxLiteral) and the chunk queued before it.
	DefaultOutputHard = 64 << 20
)

// Config is what a Server needs. The zero value of each duration and
// limit means its default above.
type Config struct {
	// Session is shared by every session; its TLS field is set by
	// NewServer from TLS below.
	Session session.Config
	// TLS, if set, enables STARTTLS with this configuration.
	TLS *tls.Config
	// IdleTimeout logs out a client that sends nothing for this long.
	IdleTimeout time.Duration
	// KeepAlive is the interval of keep-alives during IDLE.
	KeepAlive time.Duration
	// ByeTimeout bounds how long a closing connection may wait for its
	// last output to be taken.
	ByeTimeout time.Duration
	// HandshakeTimeout bounds STARTTLS's handshake.
	HandshakeTimeout time.Duration
	// Output bounds each client's queued output (tsocket.WriterLimits):
	// reading pauses past Soft, the client is disconnected past Hard.
	Output tsocket.WriterLimits
	// HibernateAfter, if positive, hands a plain connection that has
	// been in IDLE that long to the hibernation process that
	// StartHibernator starts.
	HibernateAfter time.Duration
	// StartHibernator starts the hibernation process and returns the
	// server's end of its control socket (see [ExecHibernator] and
	// [RunHibernator]); it is called on the loop when the first
	// connection hibernates, and again after the process went away.
	StartHibernator func(ev *tevent.Context) (*tsocket.Stream, error)
	// ReturnMemory, if set, is called on the loop a second after
	// connections were handed to the hibernation process (at most once
	// a second while they go): the demo sets runtime/debug.FreeOSMemory,
	// so that the memory they held goes back to the system at once.
	ReturnMemory func()
	// Logf, if set, hears what happens to connections.
	Logf func(format string, args ...any)
}

func (cfg *Config) fill() {
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&cfg.IdleTimeout, DefaultIdleTimeout)
	set(&cfg.KeepAlive, DefaultKeepAlive)
	set(&cfg.ByeTimeout, DefaultByeTimeout)
	set(&cfg.HandshakeTimeout, DefaultHandshakeTimeout)
	if cfg.Output == (tsocket.WriterLimits{}) {
		cfg.Output = tsocket.WriterLimits{Soft: DefaultOutputSoft, Hard: DefaultOutputHard}
	}
	cfg.Session.TLS = cfg.TLS != nil
	if cfg.Session.Logf == nil {
		cfg.Session.Logf = cfg.Logf
	}
}

// Server is the IMAP server on one loop: it accepts connections with
// tsocket.Serve and runs a [session.Session] on each (see [conn]), and
// with Config.HibernateAfter hands idling ones to a hibernation process
// and takes them back.
//
// A Server belongs to the goroutine running its context's loop: every
// method is called from there.
type Server struct {
	ev   *tevent.Context
	cfg  Config
	srv  *tsocket.Server
	hib  *hibernation // nil until the first connection hibernates
	mem  memoryReturn // after hand-overs
	stop bool         // Shutdown or Close was called

	// conns holds every open connection, by its current stream: those
	// srv accepted and those resumed from hibernation, which srv does not
	// know.
	conns map[*tsocket.Stream]*conn
	// scratch is where discarded literals and the input after a BYE are
	// read; its contents are never looked at.
	scratch []byte
}

// NewServer serves IMAP on l, which it takes over.
func NewServer(ev *tevent.Context, l *tsocket.Listener, cfg Config) (*Server, error) {
	if cfg.Session.Store == nil || cfg.Session.Users == nil {
		return nil, errors.New("imap: Config.Session needs a Store and Users")
	}
	cfg.fill()
	srv := &Server{ev: ev, cfg: cfg, conns: map[*tsocket.Stream]*conn{}, scratch: make([]byte, 64<<10)}
	srv.mem = memoryReturn{ev: ev, fn: cfg.ReturnMemory}
	srv.srv = tsocket.Serve(ev, l, srv.Serve)
	srv.srv.OnAcceptError(func(err error) { srv.logf("imap: accept: %v", err) })
	return srv, nil
}

// Addr returns the address the server listens on.
func (srv *Server) Addr() tsocket.Address { return srv.srv.Addr() }

// Conns returns how many connections the server itself holds open
// (hibernated ones are not counted: see [Server.Hibernated]).
func (srv *Server) Conns() int { return len(srv.conns) }

// Serve runs a session on a connected stream, which the server takes
// over: one it accepted, or one made elsewhere (a socketpair in the tour).
func (srv *Server) Serve(s *tsocket.Stream) {
	if srv.stop {
		s.Close()
		return
	}
	c := newConn(srv, s)
	c.run(c.sess.Greet())
}

// Shutdown stops accepting and ends every session with "* BYE Server
// shutting down": connections in the middle of a command get grace to
// finish before they are closed by force, and the hibernation process
// says BYE to its own connections and exits. done runs on the loop once
// every connection of the server is closed.
func (srv *Server) Shutdown(grace time.Duration, done func(err error)) {
	if srv.stop {
		done(nil)
		return
	}
	srv.stop = true
	srv.mem.stop()
	srv.srv.OnShutdown(func(s *tsocket.Stream) {
		if c := srv.conns[s]; c != nil {
			c.shutdown()
		}
	})
	// The connections resumed from hibernation are not the Server's:
	// they are told here, and each closes within its ByeTimeout.
	for _, c := range srv.conns {
		if !c.accepted {
			c.shutdown()
		}
	}
	if srv.hib != nil {
		srv.hib.shutdown()
	}
	req := tsocket.ShutdownSend(srv.ev, srv.srv, grace)
	req.SetCallback(func(req *tevent.Req[struct{}]) {
		done(tsocket.ShutdownRecv(req))
	})
}

// Close closes the listener, every connection and the control socket of
// the hibernation process (which then closes its connections and exits)
// at once.
func (srv *Server) Close() {
	srv.stop = true
	srv.mem.stop()
	for _, c := range srv.conns {
		c.drop()
	}
	srv.srv.Close()
	if srv.hib != nil {
		srv.hib.close()
	}
}

// now is the loop's clock in Unix nanoseconds, as a conn keeps its times.
func (srv *Server) now() int64 { return srv.ev.Now().UnixNano() }

// maxLine is the longest command line, as the session's parser counts it.
func (srv *Server) maxLine() int {
	if n := srv.cfg.Session.Limits.MaxLine; n > 0 {
		return n
	}
	return proto.DefaultLimits().MaxLine
}

func (srv *Server) logf(format string, args ...any) {
	if srv.cfg.Logf != nil {
		srv.cfg.Logf(format, args...)
	}
}
