package tests

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// ioTimeout bounds every client read in these tests so a broken server
// fails the test instead of hanging it; no test asserts on timing.
const ioTimeout = 30 * time.Second

// runLoop starts a context on its own goroutine with setup run on it first,
// and stops it at cleanup (the stop function runs on the loop).
func runLoop(t testing.TB, setup func(ev *tevent.Context) (stop func())) {
	t.Helper()
	ev, err := tevent.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	stop := setup(ev)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ev.Run(ctx) }()
	t.Cleanup(func() {
		if err := ev.Post(stop); err != nil {
			t.Errorf("post stop: %v", err)
		}
		cancel()
		if err := <-done; err != nil && err != context.Canceled {
			t.Errorf("Run: %v", err)
		}
		if err := ev.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// listen opens a loopback listener on port 0.
func listen(t testing.TB, ev *tevent.Context) *tsocket.Listener {
	t.Helper()
	addr, err := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// tcpAddr turns a tsocket address into "host:port" for net.Dial.
func tcpAddr(a tsocket.Address) string {
	return a.(*tsocket.InetAddr).AddrPort().String()
}

// client is a line-oriented test client over a real socket.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dial(t testing.TB, addr string) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatalf("write %q: %v", s, err)
	}
}

func (c *client) line() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	s, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read line: %v (got %q)", err, s)
	}
	return strings.TrimRight(s, "\r\n")
}

func (c *client) expect(want string) {
	c.t.Helper()
	if got := c.line(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

// eof checks that the server closed the connection.
func (c *client) eof() {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	if s, err := c.r.ReadString('\n'); err == nil || s != "" {
		c.t.Fatalf("expected the server to close, read %q, %v", s, err)
	}
}
