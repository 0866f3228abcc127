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
	cliConn, srvConn := newMemPipe()
	cfg := testutil.TLS(t)
	srv := tls.Server(srvConn, cfg.Server)
	cli := tls.Client(cliConn, cfg.Client)
	errs := make(chan error, 2)
	go func() { errs <- srv.Handshake() }()
	go func() { errs <- cli.Handshake() }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("handshake: %v", err)
		}
	}
	// From here on the server's side never blocks: an empty buffer is a
	// temporary error, as the shim's EAGAIN is.
	srvConn.setNonblocking()

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
