package tests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// inProcessHibernator runs the hibernation process's code on a loop of
// its own in this process, so a test sees both sides; descriptors still
// travel over a unix socket (SCM_RIGHTS within one process). It returns
// the Config.StartHibernator that hands the server its end, once, and the
// Hibernator. Call it before startIMAP: its cleanup waits for the
// hibernation loop, which ends once the server (closed by startIMAP's
// cleanup, which runs first) has closed the control socket.
func inProcessHibernator(t *testing.T, cfg imap.Config) (func(*tevent.Context) (*tsocket.Stream, error), func(func(*imap.Hibernator))) {
	t.Helper()
	return inProcessHibernatorWith(t, imap.HibernatorConfigOf(cfg))
}

// inProcessHibernatorWith is inProcessHibernator with the hibernation
// process's own configuration.
func inProcessHibernatorWith(t *testing.T, hc imap.HibernatorConfig) (func(*tevent.Context) (*tsocket.Stream, error), func(func(*imap.Hibernator))) {
	t.Helper()
	hev, err := tevent.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	ctl, theirs, err := tsocket.Socketpair(hev)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := theirs.Detach() // the server's end, for its own loop
	if err != nil {
		t.Fatal(err)
	}
	hib := imap.RunHibernator(hev, ctl, hc)
	done := make(chan error, 1)
	go func() {
		err := hev.LoopWait()
		if cerr := hev.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	given := false
	t.Cleanup(func() {
		if !given { // the server never started it: end it here
			unix.Close(fd)
		}
		if err := <-done; err != nil {
			t.Errorf("hibernation loop: %v", err)
		}
	})
	start := func(ev *tevent.Context) (*tsocket.Stream, error) {
		if given {
			return nil, errors.New("the in-process hibernator starts once")
		}
		given = true
		return tsocket.ExistingSocket(ev, fd)
	}
	onLoop := func(fn func(*imap.Hibernator)) {
		ran := make(chan struct{})
		if err := hev.Post(func() { fn(hib); close(ran) }); err != nil {
			t.Fatal(err)
		}
		<-ran
	}
	return start, onLoop
}

// startHibernating is startIMAP with hibernation after d.
func startHibernating(t *testing.T, cfg imap.Config) (*imapHarness, func(func(*imap.Hibernator))) {
	t.Helper()
	start, onHib := inProcessHibernator(t, cfg)
	cfg.StartHibernator = start
	return startIMAP(t, cfg), onHib
}

// keepAlivesUntilLogout reads keep-alives until the autologout's BYE,
// and then the end of the connection; any other line fails the test.
func (c *client) keepAlivesUntilLogout(where string) {
	c.t.Helper()
	for {
		l := c.line()
		if l == "* BYE Autologout; idle for too long" {
			break
		}
		if l != "* OK Still here" {
			c.t.Fatalf("%s: %q", where, l)
		}
	}
	c.eof()
}

// idleIn logs in, selects INBOX and starts IDLE with tag.
func idleIn(c *client, tag string) {
	c.t.Helper()
	c.ok("l1", "LOGIN demo demo")
	c.ok("l2", "SELECT INBOX")
	c.send(tag + " IDLE\r\n")
	c.expect("+ idling")
}

// A connection idling past HibernateAfter goes to the hibernation
// process, which pushes new mail, answers DONE and DONE+IDLE itself, and
// hands it back for anything else; the session goes on where it was.
func TestIMAPHibernation(t *testing.T) {
	h, onHib := startHibernating(t, imap.Config{HibernateAfter: 10 * time.Millisecond})
	a := h.dial()
	idleIn(a, "a1")
	h.waitLog("hibernating", ioTimeout)
	// The server logs as it sends the connection; the hibernation process
	// takes it when it reads the control socket. Each onHib is a round
	// trip through that process's loop, which reads the socket in order.
	var held, open int
	for deadline := time.Now().Add(ioTimeout); held != 1 && time.Now().Before(deadline); {
		onHib(func(hib *imap.Hibernator) { held = hib.Conns() })
	}
	h.onLoop(func() { open = h.srv.Conns() })
	if held != 1 || open != 0 {
		t.Fatalf("hibernation holds %d connections, the server %d; want 1 and 0", held, open)
	}

	// New mail reaches the hibernated client.
	b := h.dial()
	b.ok("b1", "LOGIN demo demo")
	b.ok("b2", "APPEND INBOX {16+}\r\nSubject: one\r\n\r\n")
	a.expect("* 1 EXISTS")
	a.expect("* 1 RECENT")

	// DONE and IDLE in one packet: answered there, still hibernated.
	a.send("DONE\r\na2 IDLE\r\n")
	a.expect("a1 OK IDLE terminated")
	a.expect("+ idling")
	onHib(func(hib *imap.Hibernator) { held = hib.Conns() })
	if held != 1 {
		t.Fatalf("after DONE+IDLE the hibernation holds %d connections", held)
	}

	// DONE and a command: DONE answered there, the command by the server.
	a.send("DONE\r\na3 FETCH 1 (FLAGS)\r\n")
	a.expect("a2 OK IDLE terminated")
	a.expect(`* 1 FETCH (FLAGS (\Recent))`)
	a.expect("a3 OK FETCH completed")
	h.waitLog("resumed from hibernation", ioTimeout)

	// Back in IDLE, hibernated again; a flag change from another session
	// is more than the hibernation can say: it wakes the connection,
	// which hears it from its session, still in IDLE.
	a.send("a4 IDLE\r\n")
	a.expect("+ idling")
	h.waitLog("hibernating", ioTimeout)
	b.ok("b3", "SELECT INBOX")
	b.ok("b4", `STORE 1 +FLAGS (\Flagged)`)
	a.expect(`* 1 FETCH (FLAGS (\Flagged \Recent) UID 1)`)
	h.waitLog("resumed from hibernation", ioTimeout)
	a.send("DONE\r\n")
	a.expect("a4 OK IDLE terminated")
	a.send("a5 LOGOUT\r\n")
	a.expect("* BYE gotevent IMAP4rev1 server logging out")
	a.expect("a5 OK LOGOUT completed")
	a.eof()
}

// Once connections have been handed over, the server and the hibernation
// process each give back memory (Config.ReturnMemory,
// HibernatorConfig.ReturnMemory): a burst of hand-overs costs a call
// each, not one a connection.
func TestIMAPHibernationReturnsMemory(t *testing.T) {
	var server, hibernator atomic.Int32
	called := make(chan string, 100)
	cfg := imap.Config{HibernateAfter: 10 * time.Millisecond, ReturnMemory: func() { server.Add(1); called <- "server" }}
	hc := imap.HibernatorConfigOf(cfg)
	hc.ReturnMemory = func() { hibernator.Add(1); called <- "hibernator" }
	start, onHib := inProcessHibernatorWith(t, hc)
	cfg.StartHibernator = start
	h := startIMAP(t, cfg)
	const n = 3
	for i := range n {
		idleIn(h.dial(), fmt.Sprintf("a%d", i))
	}
	for server.Load() == 0 || hibernator.Load() == 0 {
		select {
		case <-called:
		case <-time.After(ioTimeout):
			t.Fatalf("memory returned %d times by the server, %d by the hibernation process; want each at least once", server.Load(), hibernator.Load())
		}
	}
	held := 0
	for deadline := time.Now().Add(ioTimeout); held < n && time.Now().Before(deadline); {
		onHib(func(hib *imap.Hibernator) { held = hib.Conns() })
	}
	if held != n {
		t.Fatalf("%d of %d connections hibernated", held, n)
	}
	if s, hb := server.Load(), hibernator.Load(); s > n || hb > n {
		t.Errorf("memory returned %d times by the server and %d by the hibernation process for %d hand-overs", s, hb, n)
	}
}

// The hand-over loses no byte either way: a client that types DONE and
// a command in one packet while its connection is being hibernated gets
// both answered, whichever side the packet reaches. The delays sweep the
// packet across the hand-over.
func TestIMAPHibernationRace(t *testing.T) {
	h, _ := startHibernating(t, imap.Config{HibernateAfter: time.Millisecond})
	c := h.dial()
	c.ok("l1", "LOGIN demo demo")
	c.ok("l2", "SELECT INBOX")
	rounds := 200
	if testing.Short() {
		rounds = 40
	}
	for i := range rounds {
		tag := fmt.Sprintf("i%d", i)
		c.send(tag + " IDLE\r\n")
		c.expect("+ idling")
		// A spread of delays around HibernateAfter, without a sleep:
		// spin on the clock.
		for end := time.Now().Add(time.Duration(i%25) * 200 * time.Microsecond); time.Now().Before(end); {
		}
		c.send(fmt.Sprintf("DONE\r\nn%d NOOP\r\n", i))
		c.expect(tag + " OK IDLE terminated")
		c.expect(fmt.Sprintf("n%d OK NOOP completed", i))
	}
	hibernated := strings.Count(strings.Join(drainLogs(h), "\n"), "hibernating")
	t.Logf("%d of %d rounds were hibernated", hibernated, rounds)
	if hibernated == 0 {
		t.Error("no round was hibernated: the sweep missed the hand-over")
	}
}

// The hibernation process sends keep-alives and logs out a silent client.
func TestIMAPHibernationKeepAliveAndTimeout(t *testing.T) {
	h, _ := startHibernating(t, imap.Config{HibernateAfter: time.Millisecond, KeepAlive: 20 * time.Millisecond, IdleTimeout: 150 * time.Millisecond})
	c := h.dial()
	idleIn(c, "a1")
	h.waitLog("hibernating", ioTimeout)
	c.expect("* OK Still here")
	c.keepAlivesUntilLogout("hibernated")
}

// Shutdown reaches hibernated clients too: the hibernation process says
// BYE to them and exits.
func TestIMAPHibernationShutdown(t *testing.T) {
	h, _ := startHibernating(t, imap.Config{HibernateAfter: time.Millisecond})
	a, b := h.dial(), h.dial()
	idleIn(a, "a1")
	h.waitLog("hibernating", ioTimeout)
	b.ok("b1", "LOGIN demo demo")
	h.shutdownSaysBye(a, b)
}

// TLS connections stay in the server.
func TestIMAPHibernationNotTLS(t *testing.T) {
	tc := testutil.TLS(t)
	h, _ := startHibernating(t, imap.Config{HibernateAfter: time.Millisecond, KeepAlive: 20 * time.Millisecond, TLS: tc.Server})
	c := startTLS(t, h, tc.Client)
	idleIn(c, "a1")
	c.expect("* OK Still here")
	c.expect("* OK Still here")
	var n int
	h.onLoop(func() { n = h.srv.Hibernated() })
	if logs := strings.Join(drainLogs(h), "\n"); n != 0 || strings.Contains(logs, "hibernating") {
		t.Fatalf("a TLS connection was hibernated (%d held):\n%s", n, logs)
	}
}

// drainLogs returns what the server has logged so far.
func drainLogs(h *imapHarness) []string {
	var out []string
	for {
		select {
		case l := <-h.logs:
			out = append(out, l)
		default:
			return out
		}
	}
}

// The binary with --hibernate-after starts "tsocket-demo imap-hibernate"
// and hands it the idling connection over a socketpair; the session goes
// on through new mail, DONE and LOGOUT, and SIGTERM ends both processes
// (startBinary's cleanup waits for the child too: it holds the stderr
// pipe until it exits).
func TestBinaryIMAPHibernation(t *testing.T) {
	addr, proc := startBinaryProc(t, "imap", "--listen", "127.0.0.1:0", "--hibernate-after", "1ms")
	a, b := dial(t, addr), dial(t, addr)
	a.line()
	b.line()
	idleIn(a, "a1")
	// The hand-over has happened once the server has a child; there is
	// nothing to wait on but the process table. Any of the server's
	// threads may have forked it.
	deadline := time.After(ioTimeout)
	for !hasChild(t, proc.Pid) {
		select {
		case <-deadline:
			t.Fatal("the server started no hibernation process")
		case <-time.After(time.Millisecond):
		}
	}
	b.ok("b1", "LOGIN demo demo")
	b.ok("b2", "APPEND INBOX {16+}\r\nSubject: one\r\n\r\n")
	a.expect("* 1 EXISTS")
	a.expect("* 1 RECENT")
	a.send("DONE\r\na2 UID FETCH 1 (BODY.PEEK[HEADER])\r\n")
	a.expect("a1 OK IDLE terminated")
	a.expect("* 1 FETCH (UID 1 BODY[HEADER] {16}")
	a.expect("Subject: one")
	a.expect("")
	a.expect(")")
	a.expect("a2 OK FETCH completed")
	a.send("a3 LOGOUT\r\n")
	a.expect("* BYE gotevent IMAP4rev1 server logging out")
}

// hasChild reports whether process pid has a child (Linux's
// /proc/PID/task/TID/children, one file per thread).
func hasChild(t *testing.T, pid int) bool {
	t.Helper()
	files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil || len(files) == 0 {
		t.Skipf("cannot see the server's children (%v)", err)
	}
	for _, f := range files {
		if kids, err := os.ReadFile(f); err == nil && len(strings.TrimSpace(string(kids))) > 0 {
			return true
		}
	}
	return false
}
