package resp

import (
	"crypto/tls"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Config is what a [Server] allows its clients. Start from
// [DefaultConfig]: a zero limit means none.
type Config struct {
	// OutputSoft and OutputHard bound the replies waiting for a client
	// that reads slowly or not at all (Redis's client-output-buffer-limit),
	// in bytes. Past OutputSoft the client's commands, read or not, wait
	// until its output has drained to half of it; a reply that would take
	// it past OutputHard disconnects the client at once, with a reset.
	OutputSoft, OutputHard int
	// OutputSoftTime is how long a client's replies may stay over
	// OutputSoft (Redis's soft seconds, the third number of
	// client-output-buffer-limit): one over it continuously for that long,
	// never draining below it, is disconnected with a reset. 0 means no
	// limit: such a client stays paused, holding up to OutputSoft bytes
	// and a reply.
	OutputSoftTime time.Duration
	// MaxBulk is the longest bulk string accepted (proto-max-bulk-len);
	// 0 or less means MaxBulkLen. A longer one is a protocol error.
	MaxBulk int64
	// TLS, if set, makes the port speak TLS from the first byte.
	TLS *tls.Config
	// HandshakeTimeout bounds a TLS handshake; 0 means 10 seconds.
	HandshakeTimeout time.Duration
}

// DefaultConfig returns Redis's limits: 1 MiB soft and 32 MiB hard output
// (Redis has no soft pause; its pubsub class has 8 MiB and 32 MiB), with
// 60 seconds over the soft limit as the most a client may stay there (as
// Redis's pubsub and replica classes), bulk strings of up to 512 MiB, no
// TLS.
func DefaultConfig() Config {
	return Config{OutputSoft: 1 << 20, OutputHard: 32 << 20, OutputSoftTime: 60 * time.Second, MaxBulk: MaxBulkLen}
}

// sharedReadBuf is the size of a loop's read buffer, shared by the
// connections that have no partial command of their own.
const sharedReadBuf = 16 << 10

// Server serves a RESP subset (PING, ECHO, SET, GET, DEL, EXISTS, INCR,
// QUIT, and the COMMAND and CONFIG answers redis-cli and redis-benchmark
// ask for) on one loop, over connections accepted by tsocket.Serve.
// Requests may be pipelined; each connection runs its commands in order,
// and their replies go out in order through the connection's
// tsocket.Writer. A command on a key that another loop owns is run there.
//
// A Server belongs to its loop's goroutine: NewServer, Close, Conns and
// ShutdownSend are called there.
type Server struct {
	ev     *tevent.Context
	ks     *Keyspace
	self   int    // ev's place in ks
	store  *Store // ks.Store(self)
	cfg    Config
	parser Parser
	ts     *tsocket.Server
	shared []byte                    // the loop's read buffer
	conns  map[*tsocket.Stream]*conn // for the shutdown hook, which is handed streams
	// stopping is set once a shutdown has started: a TLS handshake that
	// finishes later closes its stream at once.
	stopping bool
	// guesses counts the reads made as guessed (guess.go): right, wrong,
	// and short of the header.
	guesses struct{ right, wrong, short int }
	// Log, if set, is told about accept errors and protocol errors.
	Log func(format string, args ...any)
}

// NewServer serves on l, which it takes over, the keys of ks; ev must be
// one of the loops ks was made with.
func NewServer(ev *tevent.Context, l *tsocket.Listener, ks *Keyspace, cfg Config) *Server {
	self := ks.index(ev)
	if self < 0 {
		panic("resp: NewServer on a loop the key space was not made with")
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	srv := &Server{
		ev: ev, ks: ks, self: self, store: ks.Store(self), cfg: cfg,
		parser: Parser{MaxBulk: cfg.MaxBulk},
		shared: make([]byte, sharedReadBuf),
		conns:  make(map[*tsocket.Stream]*conn),
	}
	srv.ts = tsocket.Serve(ev, l, srv.accepted)
	srv.ts.OnAcceptError(func(err error) { srv.logf("resp: accept: %v", err) })
	srv.ts.OnShutdown(srv.shutdownStream)
	return srv
}

// Addr returns the address the Server listens on.
func (srv *Server) Addr() tsocket.Address { return srv.ts.Addr() }

// Conns returns the number of open connections, TLS handshakes included.
func (srv *Server) Conns() int { return srv.ts.Conns() }

// Close stops accepting and closes every connection at once.
func (srv *Server) Close() {
	srv.stopping = true
	// The errors of close(2) on sockets being dropped tell nobody anything.
	_ = srv.ts.Close()
}

// ShutdownSend shuts srv down gracefully (tsocket.ShutdownSend): it stops
// accepting, lets each connection finish the command it is running and
// deliver the replies it holds, then closes it; connections still open
// after grace are closed by force.
func ShutdownSend(ev *tevent.Context, srv *Server, grace time.Duration) *tevent.Req[struct{}] {
	srv.stopping = true
	return tsocket.ShutdownSend(ev, srv.ts, grace)
}

// ShutdownRecv returns the result of ShutdownSend, as
// tsocket.ShutdownRecv does.
func ShutdownRecv(req *tevent.Req[struct{}]) error { return tsocket.ShutdownRecv(req) }

func (srv *Server) logf(format string, args ...any) {
	if srv.Log != nil {
		srv.Log(format, args...)
	}
}

// accepted is Serve's handler.
func (srv *Server) accepted(s *tsocket.Stream) {
	if srv.cfg.TLS == nil {
		srv.serve(s, false)
		return
	}
	req := tsocket.TLSServerSend(srv.ev, s, srv.cfg.TLS)
	req.SetEndTime(srv.ev.Now().Add(srv.cfg.HandshakeTimeout))
	req.SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
		ts, err := tsocket.TLSServerRecv(req)
		if err != nil {
			srv.logf("resp: %v: TLS handshake: %v", s.RemoteAddress(), err)
			_ = s.Close() // already failed; nothing to tell the peer
			return
		}
		if srv.stopping {
			_ = ts.Close()
			return
		}
		srv.serve(ts, true)
	})
}

func (srv *Server) serve(s *tsocket.Stream, tls bool) {
	c := newConn(srv, s)
	c.readNow = tls
	srv.conns[s] = c
	c.process()
}

// shutdownStream is the OnShutdown hook. A stream with no connection is
// still in its TLS handshake, which srv.stopping ends.
func (srv *Server) shutdownStream(s *tsocket.Stream) {
	if c, ok := srv.conns[s]; ok {
		c.shutdown()
	}
}
