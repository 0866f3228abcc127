// Package servers holds the benchmark servers, one per library, each
// written the same small way: read what is there, and either write it back
// (echo) or count it and acknowledge every whole MiB with one byte (sink).
// Every server runs on the calling process's goroutines and stops cleanly
// with Close, so the same code serves the benchmark binary and the tests.
package servers

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sort"
)

// Mode is what a server does with the bytes it reads.
type Mode int

const (
	// Echo writes every byte read back to the sender.
	Echo Mode = iota
	// Sink counts the bytes read and writes one byte back for every whole
	// MiB received on the connection (see Counter.Add).
	Sink
	// RESP serves the RESP subset of the demo (only the net-resp and
	// net-resp-tls servers).
	RESP
)

// ParseMode parses "echo", "sink" or "resp".
func ParseMode(s string) (Mode, error) {
	switch s {
	case "echo":
		return Echo, nil
	case "sink":
		return Sink, nil
	case "resp":
		return RESP, nil
	}
	return 0, fmt.Errorf("servers: unknown mode %q (echo, sink, resp)", s)
}

func (m Mode) String() string {
	switch m {
	case Echo:
		return "echo"
	case Sink:
		return "sink"
	case RESP:
		return "resp"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Config says what to serve and where.
type Config struct {
	// Addr is the TCP address to listen on, host:port. Some libraries
	// (gnet, netpoll) cannot report a kernel-chosen port, so give a
	// concrete one (FreePort).
	Addr string
	// Mode is echo, sink or resp.
	Mode Mode
	// Buf is the read buffer size where the library lets us choose it.
	Buf int
	// Loops is the number of event loops (gotevent servers only; they use
	// tevent.Group with one SO_REUSEPORT listener per loop).
	Loops int
	// TLS, for net-resp-tls (which needs it), is the server's TLS
	// configuration.
	TLS *tls.Config
}

// DefaultBuf is the read buffer size used for every server that has one.
const DefaultBuf = 16 << 10

// MiB is the sink's acknowledgement unit.
const MiB = 1 << 20

// Server is a running benchmark server.
type Server interface {
	// Close stops the server, closes its connections and waits for its
	// goroutines to end.
	Close() error
}

type starter func(cfg Config) (Server, error)

var registry = map[string]starter{}

func register(name string, fn starter) { registry[name] = fn }

// Names lists the servers that can be started, sorted.
func Names() []string {
	var names []string
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Start starts the named server. It returns once the server listens.
func Start(name string, cfg Config) (Server, error) {
	fn, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("servers: unknown server %q (have %v)", name, Names())
	}
	if cfg.Buf <= 0 {
		cfg.Buf = DefaultBuf
	}
	if cfg.Loops <= 0 {
		cfg.Loops = 1
	}
	if cfg.Mode == RESP && name != "net-resp" && name != "net-resp-tls" {
		return nil, errors.New("servers: only net-resp and net-resp-tls serve RESP; the gotevent one is the demo binary")
	}
	return fn(cfg)
}

// FreePort returns a loopback address with a port free at the time of the
// call, for libraries that must be told a concrete port.
func FreePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// Counter counts bytes for the sink mode.
type Counter struct{ n int }

// Add records k more bytes and returns how many acknowledgement bytes are
// due: one per whole MiB completed.
func (s *Counter) Add(k int) int {
	s.n += k
	acks := s.n / MiB
	s.n %= MiB
	return acks
}

// acks is a buffer of acknowledgement bytes to write from.
var acks = func() []byte {
	b := make([]byte, 4096)
	for i := range b {
		b[i] = 'A'
	}
	return b
}()

// Acks returns n acknowledgement bytes (n at most 4096, which at one per
// MiB is far more than one read can carry).
func Acks(n int) []byte { return acks[:n] }
