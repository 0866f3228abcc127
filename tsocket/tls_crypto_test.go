package tsocket_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
)

// The TLS streams rely on two behaviours of crypto/tls (conn.go), pinned
// here so that a Go release that changes them fails this test rather than
// corrupting connections:
//   - a Read whose connection returns a net.Error with Temporary() true
//     returns that error and leaves the connection usable, a record read in
//     part included;
//   - what crypto/tls writes goes to the connection's Write in whole calls
//     (the shim queues what the socket does not take, so a Write never
//     fails for want of room).
func TestCryptoTLSToleratesTemporaryReadErrors(t *testing.T) {
	cli, srv, cliConn, srvConn := memTLSPair(t)

	buf := make([]byte, 64)
	if _, err := srv.Read(buf); !isTemporary(err) {
		t.Fatalf("Read with nothing buffered = %v, want a temporary net.Error", err)
	}
	// A record split across the socket: the first bytes, then the rest.
	cliConn.hold(true)
	if _, err := cli.Write([]byte("hello, world")); err != nil {
		t.Fatal(err)
	}
	record := cliConn.held()
	if len(record) < 10 {
		t.Fatalf("client wrote %d bytes, want a whole record", len(record))
	}
	srvConn.feed(record[:7])
	if _, err := srv.Read(buf); !isTemporary(err) {
		t.Fatalf("Read with part of a record = %v, want a temporary net.Error", err)
	}
	srvConn.feed(record[7:])
	n, err := srv.Read(buf)
	if err != nil || string(buf[:n]) != "hello, world" {
		t.Fatalf("Read after the rest arrived = %q, %v", buf[:n], err)
	}
	// And again, after more temporary errors.
	for range 3 {
		if _, err := srv.Read(buf); !isTemporary(err) {
			t.Fatalf("Read = %v, want a temporary net.Error", err)
		}
	}
	cliConn.hold(true)
	if _, err := cli.Write([]byte("again")); err != nil {
		t.Fatal(err)
	}
	srvConn.feed(cliConn.held())
	if n, err := srv.Read(buf); err != nil || string(buf[:n]) != "again" {
		t.Fatalf("second Read = %q, %v", buf[:n], err)
	}
}

// memTLSPair returns a client and a server tls.Conn over a memPipe,
// handshaken, and their pipes. From then on the server's side never
// blocks: an empty buffer is a temporary error, as the shim's EAGAIN is.
func memTLSPair(t *testing.T) (cli, srv *tls.Conn, cliConn, srvConn *memPipe) {
	t.Helper()
	cliConn, srvConn = newMemPipe()
	cfg := testutil.TLS(t)
	srv = tls.Server(srvConn, cfg.Server)
	cli = tls.Client(cliConn, cfg.Client)
	errs := make(chan error, 2)
	go func() { errs <- srv.Handshake() }()
	go func() { errs <- cli.Handshake() }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("handshake: %v", err)
		}
	}
	srvConn.setNonblocking()
	return cli, srv, cliConn, srvConn
}

func isTemporary(err error) bool {
	var ne net.Error
	//lint:ignore SA1019 crypto/tls decides on Temporary(), which is what this pins
	return errors.As(err, &ne) && ne.Timeout() && ne.Temporary()
}

// memPipe is one end of an in-memory connection: blocking reads until
// setNonblocking, then an empty buffer is a temporary error. Writes go to
// the peer, or are held for the test to hand over by itself.
type memPipe struct {
	mu       sync.Mutex
	cond     sync.Cond
	in       []byte
	nonblock bool
	holding  bool
	heldOut  []byte
	peer     *memPipe
	reads    int // calls of Read
}

func newMemPipe() (*memPipe, *memPipe) {
	a, b := &memPipe{}, &memPipe{}
	a.cond.L, b.cond.L = &a.mu, &b.mu
	a.peer, b.peer = b, a
	return a, b
}

type tempErr struct{}

func (tempErr) Error() string   { return "would block" }
func (tempErr) Timeout() bool   { return true }
func (tempErr) Temporary() bool { return true }

func (p *memPipe) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reads++
	for len(p.in) == 0 {
		if p.nonblock {
			return 0, tempErr{}
		}
		p.cond.Wait()
	}
	n := copy(b, p.in)
	p.in = p.in[n:]
	return n, nil
}

func (p *memPipe) Write(b []byte) (int, error) {
	p.mu.Lock()
	if p.holding {
		p.heldOut = append(p.heldOut, b...)
		p.mu.Unlock()
		return len(b), nil
	}
	p.mu.Unlock()
	p.peer.feed(b)
	return len(b), nil
}

func (p *memPipe) feed(b []byte) {
	p.mu.Lock()
	p.in = append(p.in, b...)
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *memPipe) readCalls() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reads
}

func (p *memPipe) setNonblocking() {
	p.mu.Lock()
	p.nonblock = true
	p.mu.Unlock()
}

func (p *memPipe) hold(v bool) {
	p.mu.Lock()
	p.holding = v
	p.mu.Unlock()
}

// held returns what was written while holding, and stops holding.
func (p *memPipe) held() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := bytes.Clone(p.heldOut)
	p.heldOut, p.holding = nil, false
	return b
}

func (p *memPipe) Close() error                     { return nil }
func (p *memPipe) LocalAddr() net.Addr              { return memAddr{} }
func (p *memPipe) RemoteAddr() net.Addr             { return memAddr{} }
func (p *memPipe) SetDeadline(time.Time) error      { return nil }
func (p *memPipe) SetReadDeadline(time.Time) error  { return nil }
func (p *memPipe) SetWriteDeadline(time.Time) error { return nil }

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

// A TLS stream reads crypto/tls again after plaintext only while crypto/tls
// may hold a whole record (tlsio.Shim.HoldsInput), and that rests on a
// third behaviour, pinned here: crypto/tls reads its connection only while
// the record it is on is incomplete, so it holds no whole record then. Two
// records that arrive in one read are decrypted by two Reads with no read
// of the connection between them; the third Read reads it.
func TestCryptoTLSReadsOnlyForAnIncompleteRecord(t *testing.T) {
	cli, srv, cliConn, srvConn := memTLSPair(t)
	buf := make([]byte, 64)
	// Whatever the handshake left goes first.
	for {
		if _, err := srv.Read(buf); isTemporary(err) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	cliConn.hold(true)
	for _, m := range []string{"one", "two"} {
		if _, err := cli.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	two := cliConn.held()
	// Both records and the first bytes of a third, in one read.
	cliConn.hold(true)
	if _, err := cli.Write([]byte("three")); err != nil {
		t.Fatal(err)
	}
	third := cliConn.held()
	srvConn.feed(append(two, third[:3]...))
	reads := srvConn.readCalls()
	for _, want := range []string{"one", "two"} {
		n, err := srv.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("Read = %q, %v, want %q", buf[:n], err, want)
		}
	}
	if got := srvConn.readCalls() - reads; got != 1 {
		t.Fatalf("crypto/tls read its connection %d times for two records that came in one read, want 1", got)
	}
	if _, err := srv.Read(buf); !isTemporary(err) {
		t.Fatalf("Read of an incomplete record = %v, want a temporary error", err)
	}
	if got := srvConn.readCalls() - reads; got != 2 {
		t.Fatalf("crypto/tls read its connection %d times in all, want 2: once more for the incomplete record", got)
	}
	srvConn.feed(third[3:])
	if n, err := srv.Read(buf); err != nil || string(buf[:n]) != "three" {
		t.Fatalf("Read = %q, %v, want three", buf[:n], err)
	}
}
