package tests

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"github.com/gotevent/gotevent/tevent"
)

// redisTools returns the paths of redis-cli and redis-benchmark, or skips
// the test without them.
func redisTools(t *testing.T) (cli, bench string) {
	t.Helper()
	for _, tool := range []struct {
		name string
		path *string
	}{{"redis-cli", &cli}, {"redis-benchmark", &bench}} {
		p, err := exec.LookPath(tool.name)
		if err != nil {
			t.Skipf("%s not found (Debian package redis-tools; .ci/run installs it)", tool.name)
		}
		*tool.path = p
	}
	return cli, bench
}

// respServer is the demo's RESP server on a loop of its own, for tests
// that need its configuration, its connection count or its log.
type respServer struct {
	addr string
	ev   *tevent.Context
	srv  *resp.Server

	mu   sync.Mutex
	logs []string
}

func startRESPWith(t testing.TB, cfg resp.Config) *respServer {
	t.Helper()
	rs := &respServer{}
	runLoop(t, func(ev *tevent.Context) func() {
		l := listen(t, ev)
		rs.addr, rs.ev = tcpAddr(l.Addr()), ev
		rs.srv = resp.NewServer(ev, l, resp.NewKeyspace(ev), cfg)
		rs.srv.Log = func(format string, args ...any) {
			rs.mu.Lock()
			rs.logs = append(rs.logs, fmt.Sprintf(format, args...))
			rs.mu.Unlock()
		}
		return rs.srv.Close
	})
	return rs
}

// conns asks the loop for the server's connection count.
func (rs *respServer) conns(t testing.TB) int {
	t.Helper()
	got := make(chan int, 1)
	if err := rs.ev.Post(func() { got <- rs.srv.Conns() }); err != nil {
		t.Fatal(err)
	}
	return <-got
}

// waitConns waits until the server holds n connections. The server learns
// of a client's end from its loop, a little after the client acted.
func (rs *respServer) waitConns(t testing.TB, n int) {
	t.Helper()
	if !rs.waitUntil(t, func() bool { return rs.srv.Conns() == n }) {
		t.Fatalf("the server holds %d connections after %v, want %d", rs.conns(t), ioTimeout, n)
	}
}

// waitUntil reports whether ok held within ioTimeout: a timer on the
// server's loop asks it every millisecond.
func (rs *respServer) waitUntil(t testing.TB, ok func() bool) bool {
	t.Helper()
	got := make(chan bool, 1)
	deadline := time.Now().Add(ioTimeout)
	if err := rs.ev.Post(func() {
		rs.ev.AddTimer(rs.ev.Now(), func(te *tevent.Timer, now time.Time) {
			if yes := ok(); yes || now.After(deadline) {
				got <- yes
				return
			}
			te.Reset(now.Add(time.Millisecond))
		})
	}); err != nil {
		t.Fatal(err)
	}
	return <-got
}

// logged returns the log lines containing s.
func (rs *respServer) logged(s string) []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var out []string
	for _, l := range rs.logs {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// respConn is a RESP client over net.Conn.
type respConn struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dialRESP(t testing.TB, addr string) *respConn {
	t.Helper()
	c := dial(t, addr)
	return &respConn{t: t, conn: c.conn, r: bufio.NewReaderSize(c.conn, 64<<10)}
}

func (c *respConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// setValue starts a server with cfg and a client that has SET k to a value
// of size bytes, which it returns.
func setValue(t testing.TB, cfg resp.Config, size int) (*respServer, *respConn, string) {
	t.Helper()
	rs := startRESPWith(t, cfg)
	c := dialRESP(t, rs.addr)
	set, v := bulkCmd(size, "SET", "k")
	c.send(set)
	if got := c.reply(); got != "+OK" {
		t.Fatalf("SET of %d bytes = %q", size, got)
	}
	return rs, c, v
}

// do sends one command and returns its reply, as readReply renders it.
func (c *respConn) do(args ...string) string {
	c.t.Helper()
	c.send(respCmd(args...))
	return c.reply()
}

func (c *respConn) reply() string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	return readReply(c.t, c.r)
}

// bulkCmd encodes a command whose last argument is n bytes of a pattern
// that tells where a byte is, so a value that comes back shifted or cut
// is caught.
func bulkCmd(n int, args ...string) (cmd, value string) {
	return respCmd(append(args, patterned(n))...), patterned(n)
}

func patterned(n int) string {
	var b strings.Builder
	b.Grow(n + 16)
	for i := 0; b.Len() < n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte(' ')
	}
	return b.String()[:n]
}
