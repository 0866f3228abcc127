package tests

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// Helpers for the fault, stress and soak tests: contexts on every backend, a
// loop driver with a watchdog, TCP pairs, raw descriptors, heap readings,
// child processes and a SIGPIPE detector.

// soakEnv is the environment variable that selects the long forms: unset,
// the fault and stress tests run their short forms (what `make test` runs);
// set to a duration (`make soak` sets GOTEVENT_SOAK=60s), every TestSoak*
// test runs at full length and the RESP soak runs for that long.
const soakEnv = "GOTEVENT_SOAK"

// soakLength reports whether the long forms were asked for and, if so, how
// long the soak should run.
func soakLength(t testing.TB) (time.Duration, bool) {
	t.Helper()
	v := os.Getenv(soakEnv)
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 60s", soakEnv, v)
	}
	return d, true
}

// forEachBackend runs fn as a subtest on every backend this platform offers.
func forEachBackend(t *testing.T, fn func(t *testing.T, backend string)) {
	t.Helper()
	for _, b := range tevent.Backends() {
		t.Run(b, func(t *testing.T) { fn(t, b) })
	}
}

// ctxOn creates a context on backend, closed at cleanup (Close is
// idempotent, so a test may close it earlier).
func ctxOn(t testing.TB, backend string, opts ...tevent.Option) *tevent.Context {
	t.Helper()
	ev, err := tevent.NewContext(append([]tevent.Option{tevent.WithBackend(backend)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Backend(); got != backend {
		t.Fatalf("asked for backend %q, got %q", backend, got)
	}
	t.Cleanup(func() {
		if err := ev.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ev
}

// runUntil runs ev's loop on the calling goroutine until cond holds. A
// watchdog timer (ioTimeout on the context's clock, so only for contexts on
// the system clock) turns a loop that would wait forever into a test
// failure; it is cancelled before returning, so it never counts as an event
// afterwards. No test asserts on how long this takes.
func runUntil(t testing.TB, ev *tevent.Context, what string, cond func() bool) {
	t.Helper()
	expired := false
	dog := ev.AddTimer(ev.Now().Add(ioTimeout), func(*tevent.Timer, time.Time) { expired = true })
	defer dog.Cancel()
	err := ev.LoopUntil(func() bool { return expired || cond() })
	if err != nil {
		t.Fatalf("loop while waiting for %s: %v", what, err)
	}
	if expired && !cond() {
		t.Fatalf("gave up waiting for %s after %v", what, ioTimeout)
	}
}

// waitFor runs ev's loop until req has finished.
func waitFor(t testing.TB, ev *tevent.Context, what string, req tevent.Request) {
	t.Helper()
	runUntil(t, ev, what, func() bool { return !req.IsInProgress() })
}

// loopbackAny is 127.0.0.1 port 0.
func loopbackAny(t testing.TB) tsocket.Address {
	t.Helper()
	a, err := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// tcpStreams returns a connected TCP pair of streams on ev over loopback, made
// with ConnectSend and AcceptSend; both are closed at cleanup.
func tcpStreams(t testing.TB, ev *tevent.Context) (client, server *tsocket.Stream) {
	t.Helper()
	l, err := tsocket.Listen(ev, loopbackAny(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c := tsocket.ConnectSend(ev, nil, l.Addr())
	a := tsocket.AcceptSend(ev, l)
	runUntil(t, ev, "connect and accept", func() bool { return !c.IsInProgress() && !a.IsInProgress() })
	client, err = tsocket.ConnectRecv(c)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	server, err = tsocket.AcceptRecv(a)
	if err != nil {
		client.Close()
		t.Fatalf("accept: %v", err)
	}
	t.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

// streamsOf returns a connected pair of the given network, "tcp" or
// "unix", closed at cleanup.
func streamsOf(t testing.TB, ev *tevent.Context, network string) (*tsocket.Stream, *tsocket.Stream) {
	t.Helper()
	if network == "tcp" {
		return tcpStreams(t, ev)
	}
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		b.Close()
	})
	return a, b
}

// rawFDs owns raw descriptors for one test: close marks a descriptor closed
// so the cleanup never closes a number that has since been reused.
type rawFDs struct {
	mu   sync.Mutex
	open map[int]bool
}

func newRawFDs(t testing.TB) *rawFDs {
	r := &rawFDs{open: make(map[int]bool)}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for fd := range r.open {
			unix.Close(fd)
		}
		r.open = nil
	})
	return r
}

func (r *rawFDs) add(fd int) int {
	r.mu.Lock()
	r.open[fd] = true
	r.mu.Unlock()
	return fd
}

// forget hands fd over to someone else who will close it.
func (r *rawFDs) forget(fd int) {
	r.mu.Lock()
	delete(r.open, fd)
	r.mu.Unlock()
}

func (r *rawFDs) close(t testing.TB, fd int) {
	t.Helper()
	r.forget(fd)
	if err := unix.Close(fd); err != nil {
		t.Errorf("close(%d): %v", fd, err)
	}
}

// tcp returns a connected loopback TCP pair of raw non-blocking,
// close-on-exec descriptors, made with plain syscalls so that the test, not
// a Stream, owns them.
func (r *rawFDs) tcp(t testing.TB) (a, b int) {
	t.Helper()
	mk := func() int {
		fd, err := sys.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatalf("socket: %v", err)
		}
		if err := unix.SetNonblock(fd, false); err != nil {
			t.Fatalf("set blocking: %v", err)
		}
		return r.add(fd)
	}
	l := mk()
	defer r.close(t, l)
	if err := unix.Bind(l, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	if err := unix.Listen(l, 1); err != nil {
		t.Fatalf("listen: %v", err)
	}
	sa, err := unix.Getsockname(l)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	a = mk()
	if err := unix.Connect(a, sa); err != nil { // blocking: completes into the backlog
		t.Fatalf("connect: %v", err)
	}
	nb, _, err := sys.Accept(l) // queued already: does not wait
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	b = r.add(nb)
	if err := unix.SetNonblock(a, true); err != nil {
		t.Fatalf("set non-blocking: %v", err)
	}
	return a, b
}

// socketpair returns a non-blocking, close-on-exec AF_UNIX stream pair.
func (r *rawFDs) socketpair(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	return r.add(fds[0]), r.add(fds[1])
}

// setLinger0 makes close(fd) reset the connection (RST) instead of the
// orderly FIN.
func setLinger0(t testing.TB, fd int) {
	t.Helper()
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		t.Fatalf("SO_LINGER: %v", err)
	}
}

// heapObjectsBytes is the heap held by live objects after a full collection
// (runtime/metrics "/memory/classes/heap/objects:bytes"). Two collections:
// the first may leave objects that only become unreachable once finalizers
// or cleanups queued by it have run.
func heapObjectsBytes() uint64 {
	runtime.GC()
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// noSIGPIPE fails t at cleanup if the process received a SIGPIPE between
// this call and the end of the test.
//
// While a channel is registered for SIGPIPE the runtime delivers every
// SIGPIPE to it, whatever the descriptor (os/signal). Delivery is
// asynchronous and the runtime coalesces pending signals per number, so an
// empty channel alone would prove nothing. The check therefore ends with a
// barrier: it sends itself SIGALRM (14) and waits for it. The runtime hands
// pending signals to os/signal lowest number first from one snapshot of the
// pending set, and a SIGPIPE raised by a write is marked pending before that
// write returns, so once SIGALRM has arrived every SIGPIPE (13) raised
// before it was sent is already in the channel.
func noSIGPIPE(t testing.TB) {
	t.Helper()
	pipe := make(chan os.Signal, 16)
	signal.Notify(pipe, syscall.SIGPIPE)
	t.Cleanup(func() {
		defer signal.Stop(pipe)
		barrier := make(chan os.Signal, 1)
		signal.Notify(barrier, syscall.SIGALRM)
		defer signal.Stop(barrier)
		if err := unix.Kill(os.Getpid(), unix.SIGALRM); err != nil {
			t.Errorf("kill SIGALRM: %v", err)
			return
		}
		select {
		case <-barrier:
		case <-time.After(ioTimeout):
			t.Errorf("the SIGALRM barrier never arrived")
			return
		}
		if n := len(pipe); n > 0 {
			t.Errorf("the process got %d SIGPIPE(s): a write did not use MSG_NOSIGNAL", n)
		}
	})
}

// Child processes. A test that needs a process of its own (a lower
// RLIMIT_NOFILE, a server whose descriptors and heap are measured apart from
// the client's) re-runs this test binary with -test.run=^TestChildProcess$
// and childEnv naming what to run; TestChildProcess does nothing otherwise.

const childEnv = "GOTEVENT_TEST_CHILD"

// childModes maps a mode name to the function the child runs. Each writes
// its protocol to stdout, reads commands from stdin and returns the exit
// status.
var childModes = map[string]func() int{}

// TestChildProcess is the entry point of child processes; run directly, it
// has nothing to do.
func TestChildProcess(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("only runs as a child process of another test")
	}
	fn, ok := childModes[mode]
	if !ok {
		fmt.Fprintf(os.Stderr, "unknown child mode %q\n", mode)
		os.Exit(2)
	}
	// Exit at once: the parent judges the child by its output and status,
	// and the child's own leak checks would only add noise.
	os.Exit(fn())
}

// child is a running child process speaking a line protocol on its stdin
// and stdout.
type child struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr *lockedBuffer
	done   chan struct{} // closed when the stdout reader has seen EOF
	waited bool
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startChild runs this test binary as a child in mode, with extra
// environment variables. It is killed and waited for at cleanup if the test
// did not wait for it.
func startChild(t testing.TB, mode string, env ...string) *child {
	t.Helper()
	cmd := testutil.SelfCommand("-test.run=^TestChildProcess$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	c := &child{t: t, cmd: cmd, lines: make(chan string, 1024), stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = c.stderr
	var err error
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.done)
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if !c.waited {
			c.cmd.Process.Kill()
			c.stdin.Close()
			for range c.lines { // let the reader reach EOF
			}
			c.cmd.Wait()
		}
	})
	return c
}

// send writes one command line to the child.
func (c *child) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, line+"\n"); err != nil {
		c.t.Fatalf("write to child: %v\nchild stderr:\n%s", err, c.stderr.String())
	}
}

// expect returns the next line from the child that starts with prefix,
// failing on any other line that is not a "LOG" line.
func (c *child) expect(prefix string) string {
	c.t.Helper()
	timeout := time.NewTimer(ioTimeout)
	defer timeout.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("child exited while we waited for %q\nchild stderr:\n%s", prefix, c.stderr.String())
			}
			if strings.HasPrefix(l, prefix) {
				return strings.TrimSpace(strings.TrimPrefix(l, prefix))
			}
			if strings.HasPrefix(l, "LOG ") {
				c.t.Log("child: " + l[4:])
				continue
			}
			c.t.Fatalf("child said %q while we waited for %q", l, prefix)
		case <-timeout.C:
			c.t.Fatalf("child said nothing for %v while we waited for %q\nchild stderr:\n%s", ioTimeout, prefix, c.stderr.String())
		}
	}
}

// next returns the child's next line other than a "LOG" line (which it
// logs).
func (c *child) next() string {
	c.t.Helper()
	timeout := time.NewTimer(ioTimeout)
	defer timeout.Stop()
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("child exited\nchild stderr:\n%s", c.stderr.String())
			}
			if strings.HasPrefix(l, "LOG ") {
				c.t.Log("child: " + l[4:])
				continue
			}
			return l
		case <-timeout.C:
			c.t.Fatalf("child said nothing for %v\nchild stderr:\n%s", ioTimeout, c.stderr.String())
		}
	}
}

// wait closes the child's stdin, which tells it to finish, and checks that it
// exits with status 0 and nothing more to say but LOG lines.
func (c *child) wait() *os.ProcessState {
	c.t.Helper()
	c.stdin.Close()
	for l := range c.lines {
		if strings.HasPrefix(l, "LOG ") {
			c.t.Log("child: " + l[4:])
			continue
		}
		c.t.Errorf("child said %q at exit", l)
	}
	err := c.cmd.Wait()
	c.waited = true
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			c.t.Fatalf("child: %v\nchild stderr:\n%s", err, c.stderr.String())
		}
		c.t.Fatal(err)
	}
	return c.cmd.ProcessState
}

// childOutMu keeps lines written by a child's goroutines whole.
var childOutMu sync.Mutex

// childOut writes one protocol line to stdout from a child.
func childOut(format string, args ...any) {
	childOutMu.Lock()
	defer childOutMu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

// childFatal reports a child's failure on stderr and returns its exit
// status.
func childFatal(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	return 1
}

// childStdin delivers the child's stdin lines to fn on ev's loop through
// Post, and calls eof (also on the loop) once stdin is closed. The reading
// goroutine ends with stdin; the child exits right after, so nothing waits
// for it.
func childStdin(ev *tevent.Context, fn func(line string), eof func()) {
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			l := sc.Text()
			if ev.Post(func() { fn(l) }) != nil {
				return
			}
		}
		ev.Post(eof)
	}()
}

// raiseNOFILE raises the soft RLIMIT_NOFILE towards the hard limit so that
// at least need descriptors can be open, and reports whether that is
// possible.
func raiseNOFILE(need uint64) (ok bool, lim unix.Rlimit, err error) {
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return false, lim, err
	}
	if uint64(lim.Cur) >= need {
		return true, lim, nil
	}
	if uint64(lim.Max) < need {
		return false, lim, nil
	}
	nl := lim
	nl.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &nl); err != nil {
		return false, lim, err
	}
	return true, nl, nil
}

// cpuTime is the user plus system CPU time this process has used.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
