package tests

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// imapHarness is the demo's IMAP server on a loop of its own, with mail in
// memory, the users demo:demo and mrc:secret, and its log on a channel.
type imapHarness struct {
	t    *testing.T
	addr string
	ev   *tevent.Context
	srv  *imap.Server
	logs chan string
}

func startIMAP(t *testing.T, cfg imap.Config) *imapHarness {
	t.Helper()
	users, err := mail.ParseUsers(strings.NewReader("demo:demo\nmrc:secret\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Session.Store == nil {
		cfg.Session.Store = mail.NewStore(mail.NewMemory(time.Now))
	}
	cfg.Session.Users = users
	h := &imapHarness{t: t, logs: make(chan string, 1000)}
	cfg.Logf = func(format string, args ...any) {
		select {
		case h.logs <- fmt.Sprintf(format, args...):
		default: // a test that does not read the log must not block the loop
		}
	}
	runLoop(t, func(ev *tevent.Context) func() {
		l := listen(t, ev)
		h.addr, h.ev = tcpAddr(l.Addr()), ev
		h.srv, err = imap.NewServer(ev, l, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return h.srv.Close
	})
	return h
}

// onLoop runs fn on the server's loop and waits for it.
func (h *imapHarness) onLoop(fn func()) {
	h.t.Helper()
	done := make(chan struct{})
	if err := h.ev.Post(func() { fn(); close(done) }); err != nil {
		h.t.Fatal(err)
	}
	<-done
}

// conns is how many connections the server holds.
func (h *imapHarness) conns() int {
	var n int
	h.onLoop(func() { n = h.srv.Conns() })
	return n
}

// waitLog waits up to d for a log line containing want and returns how
// long it took.
func (h *imapHarness) waitLog(want string, d time.Duration) time.Duration {
	h.t.Helper()
	start := time.Now()
	timeout := time.After(d)
	for {
		select {
		case l := <-h.logs:
			if strings.Contains(l, want) {
				return time.Since(start)
			}
		case <-timeout:
			h.t.Fatalf("no log line %q within %v", want, d)
		}
	}
}

// shutdownSaysBye shuts the server down with a second's grace and checks
// that each of clients is told BYE and closed, and that Shutdown reports
// every connection gone.
func (h *imapHarness) shutdownSaysBye(clients ...*client) {
	h.t.Helper()
	done := make(chan error, 1)
	h.onLoop(func() { h.srv.Shutdown(time.Second, func(err error) { done <- err }) })
	for _, c := range clients {
		c.expect("* BYE Server shutting down")
		c.eof()
	}
	if err := <-done; err != nil {
		h.t.Fatalf("Shutdown: %v", err)
	}
}

// dial connects and reads the greeting.
func (h *imapHarness) dial() *client {
	h.t.Helper()
	c := dial(h.t, h.addr)
	if g := c.line(); !strings.HasPrefix(g, "* OK [CAPABILITY IMAP4rev1") {
		h.t.Fatalf("greeting %q", g)
	}
	return c
}

// cmd sends a tagged command and returns every line up to and including
// its tagged reply.
func (c *client) cmd(tag, command string) []string {
	c.t.Helper()
	c.send(tag + " " + command + "\r\n")
	return c.until(tag)
}

// until reads lines up to and including the one tagged tag.
func (c *client) until(tag string) []string {
	c.t.Helper()
	var lines []string
	for {
		l := c.line()
		lines = append(lines, l)
		if strings.HasPrefix(l, tag+" ") {
			return lines
		}
	}
}

// ok sends a command that must succeed.
func (c *client) ok(tag, command string) []string {
	c.t.Helper()
	lines := c.cmd(tag, command)
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, tag+" OK") {
		c.t.Fatalf("%s %s: %q", tag, command, lines)
	}
	return lines
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// A whole session over TCP: login, append with a synchronizing literal,
// fetch, IDLE told of another session's APPEND, DONE, LOGOUT.
func TestIMAPSession(t *testing.T) {
	h := startIMAP(t, imap.Config{})
	a := h.dial()
	a.ok("a1", "LOGIN demo demo")
	a.ok("a2", "SELECT INBOX")
	msg := "Subject: first\r\n\r\nhello\r\n"
	a.send(fmt.Sprintf("a3 APPEND INBOX {%d}\r\n", len(msg)))
	a.expect("+ Ready for literal data")
	a.send(msg + "\r\n")
	if l := a.until("a3"); !strings.HasPrefix(l[len(l)-1], "a3 OK [APPENDUID ") {
		t.Fatalf("APPEND: %q", l)
	}
	f := a.ok("a4", "UID FETCH 1 (BODY.PEEK[])")
	if !hasLine(f, fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}", len(msg))) {
		t.Fatalf("FETCH: %q", f)
	}
	a.send("a5 IDLE\r\n")
	a.expect("+ idling")

	b := h.dial()
	b.ok("b1", "LOGIN demo demo")
	b.ok("b2", fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(msg), msg))
	a.expect("* 2 EXISTS")
	a.expect("* 2 RECENT")
	a.send("DONE\r\n")
	a.expect("a5 OK IDLE terminated")
	a.send("a6 LOGOUT\r\n")
	a.expect("* BYE gotevent IMAP4rev1 server logging out")
	a.expect("a6 OK LOGOUT completed")
	a.eof()
}

// Protocol errors are answered with BAD or NO and the session goes on,
// a line over the limit included.
func TestIMAPProtocolErrors(t *testing.T) {
	h := startIMAP(t, imap.Config{Session: session.Config{}})
	c := h.dial()
	for _, tc := range []struct{ send, want string }{
		{"a1 FROB\r\n", "a1 BAD"},
		{"a2 LOGIN demo wrong\r\n", "a2 NO [AUTHENTICATIONFAILED]"},
		{"a3 SELECT INBOX\r\n", "a3 BAD"},
		{"a4 NOOP " + strings.Repeat("x", 70<<10) + "\r\n", "* BAD [TOOBIG] Command line too long"},
		{"a5 NOOP\r\n", "a5 OK"},
	} {
		c.send(tc.send)
		if got := c.line(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%.20q: got %q, want %q...", tc.send, got, tc.want)
		}
	}
}

// A client silent for the idle timeout is logged out.
func TestIMAPIdleTimeout(t *testing.T) {
	h := startIMAP(t, imap.Config{IdleTimeout: 50 * time.Millisecond})
	c := h.dial()
	c.ok("a1", "LOGIN demo demo")
	c.expect("* BYE Autologout; idle for too long")
	c.eof()
}

// IDLE gets keep-alives, and the idle timeout applies there too (RFC
// 2177: clients re-issue IDLE every 29 minutes).
func TestIMAPIdleKeepAlive(t *testing.T) {
	h := startIMAP(t, imap.Config{KeepAlive: 10 * time.Millisecond, IdleTimeout: 200 * time.Millisecond})
	c := h.dial()
	idleIn(c, "a3")
	c.expect("* OK Still here")
	c.expect("* OK Still here")
	c.keepAlivesUntilLogout("during IDLE")
}

// Issue 13: a client that sends commands and never reads is closed
// within twice the idle timeout plus the BYE bound, however full its
// output.
func TestIMAPNonReaderClosed(t *testing.T) {
	const idle, bye = 300 * time.Millisecond, 200 * time.Millisecond
	h := startIMAP(t, imap.Config{IdleTimeout: idle, ByeTimeout: bye})
	conn, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	msg := "Subject: big\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 1<<16) // 1.1 MiB
	var cmds strings.Builder
	fmt.Fprintf(&cmds, "a1 LOGIN demo demo\r\na2 SELECT INBOX\r\na3 APPEND INBOX {%d+}\r\n%s\r\n", len(msg), msg)
	for i := range 40 {
		fmt.Fprintf(&cmds, "f%d FETCH 1 BODY.PEEK[]\r\n", i)
	}
	conn.SetWriteDeadline(time.Now().Add(ioTimeout))
	if _, err := conn.Write([]byte(cmds.String())); err != nil {
		t.Fatal(err)
	}
	took := h.waitLog("resetting", 2*idle+bye+time.Second)
	if limit := 2*idle + bye; took > limit {
		t.Errorf("reset after %v, want within %v", took, limit)
	}
	if n := h.conns(); n != 0 {
		t.Errorf("server holds %d connections after the reset", n)
	}
}

// A client that sends its commands and shuts down its write side gets
// every reply.
func TestIMAPHalfClose(t *testing.T) {
	h := startIMAP(t, imap.Config{})
	c := dial(t, h.addr)
	var cmds strings.Builder
	cmds.WriteString("a1 LOGIN demo demo\r\na2 SELECT INBOX\r\n")
	for i := range 200 {
		fmt.Fprintf(&cmds, "n%d NOOP\r\n", i)
	}
	c.send(cmds.String())
	if err := c.conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	c.line() // the greeting
	lines := c.until("a2")
	if !strings.HasPrefix(lines[len(lines)-1], "a2 OK") {
		t.Fatalf("SELECT: %q", lines)
	}
	for i := range 200 {
		c.expect(fmt.Sprintf("n%d OK NOOP completed", i))
	}
	c.eof()
}

// Output past the hard limit disconnects the client.
func TestIMAPOutputHardLimit(t *testing.T) {
	h := startIMAP(t, imap.Config{Output: tsocket.WriterLimits{Soft: 64 << 10, Hard: 256 << 10}})
	c := h.dial()
	c.ok("a1", "LOGIN demo demo")
	c.ok("a2", "SELECT INBOX")
	msg := "Subject: big\r\n\r\n" + strings.Repeat("x", 512<<10) + "\r\n"
	c.ok("a3", fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(msg), msg))
	c.send("a4 FETCH 1 BODY[]\r\n")
	h.waitLog("disconnecting", ioTimeout)
	for {
		c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
		if _, err := c.r.ReadString('\n'); err != nil {
			break // reset or closed
		}
	}
}

// startTLS dials, runs STARTTLS with a command injected behind it in the
// same packet (which the server must drop) and returns the client on TLS.
func startTLS(t *testing.T, h *imapHarness, cfg *tls.Config) *client {
	t.Helper()
	c := h.dial()
	caps := c.ok("a1", "CAPABILITY")
	if !strings.Contains(caps[0], " STARTTLS") {
		t.Fatalf("plaintext CAPABILITY: %q", caps)
	}
	c.send("a2 STARTTLS\r\na3 NOOP\r\n")
	c.expect("a2 OK Begin TLS negotiation now")
	tconn := tls.Client(c.conn, cfg)
	tconn.SetDeadline(time.Now().Add(ioTimeout))
	if err := tconn.Handshake(); err != nil {
		t.Fatal(err)
	}
	return &client{t: t, conn: tconn, r: bufio.NewReader(tconn)}
}

// STARTTLS: the plaintext after the command is dropped, the session goes
// on over TLS and no longer offers STARTTLS.
func TestIMAPStartTLS(t *testing.T) {
	tc := testutil.TLS(t)
	h := startIMAP(t, imap.Config{TLS: tc.Server})
	c := startTLS(t, h, tc.Client)
	caps := c.ok("b1", "CAPABILITY") // a3 NOOP never ran: b1 is the next reply
	if strings.Contains(caps[0], "STARTTLS") {
		t.Fatalf("CAPABILITY over TLS: %q", caps)
	}
	c.ok("b2", "LOGIN demo demo")
	c.send("b3 LOGOUT\r\n")
	c.until("b3")
	c.eof()
}

// Shutdown says BYE to every client, idle or in IDLE, and closes.
func TestIMAPShutdown(t *testing.T) {
	h := startIMAP(t, imap.Config{})
	a, b := h.dial(), h.dial()
	b.ok("b1", "LOGIN demo demo")
	b.ok("b2", "SELECT INBOX")
	b.send("b3 IDLE\r\n")
	b.expect("+ idling")
	h.shutdownSaysBye(a, b)
}
