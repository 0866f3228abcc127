package tsocket_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

var shutdownStart = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// serveTest starts a Server on loopback port 0 whose handler reads with a
// shared buffer and closes the stream at EOF or on any read error, and
// calls greet(s) first if it is not nil.
func serveTest(t testing.TB, ev *tevent.Context, greet func(s *tsocket.Stream)) (*tsocket.Server, *tsocket.Listener) {
	t.Helper()
	l, err := tsocket.Listen(ev, loopback4(t))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	get := func() []byte { return buf }
	var read func(s *tsocket.Stream)
	read = func(s *tsocket.Stream) {
		tsocket.ReadSomeFuncSend(ev, s, get).SetCallback(func(req *tevent.Req[[]byte]) {
			if _, err := tsocket.ReadSomeFuncRecv(req); err != nil {
				s.Close()
				return
			}
			read(s)
		})
	}
	srv := tsocket.Serve(ev, l, func(s *tsocket.Stream) {
		if greet != nil {
			greet(s)
		}
		read(s)
	})
	t.Cleanup(func() { srv.Close() })
	return srv, l
}

// connectN connects n clients to addr from ev, at most 256 connects at a
// time so that the listener's backlog never overflows, and runs the loop
// until every one is connected and ready says so too.
func connectN(ev *tevent.Context, addr tsocket.Address, n int, ready func() bool) ([]*tsocket.Stream, error) {
	clients := make([]*tsocket.Stream, 0, n)
	inflight, started := 0, 0
	var failed error
	var next func()
	next = func() {
		for inflight < 256 && started < n && failed == nil {
			started++
			inflight++
			tsocket.ConnectSend(ev, nil, addr).SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
				inflight--
				s, err := tsocket.ConnectRecv(req)
				if err != nil {
					failed = err
					return
				}
				clients = append(clients, s)
				next()
			})
		}
	}
	next()
	err := ev.LoopUntil(func() bool { return failed != nil || inflight == 0 && len(clients) == n && ready() })
	return clients, errors.Join(err, failed)
}

// dialN connects n clients to srv from ev and runs the loop until the
// server holds them (n more than before). The clients are closed at
// cleanup.
func dialN(t testing.TB, ev *tevent.Context, srv *tsocket.Server, n int) []*tsocket.Stream {
	t.Helper()
	want := srv.Conns() + n
	clients, err := connectN(ev, srv.Addr(), n, func() bool { return srv.Conns() == want })
	t.Cleanup(func() {
		for _, c := range clients {
			c.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return clients
}

// readUntilEOF reads c until EOF or an error, then closes it; got collects
// what it read, and eof counts the streams that ended with EOF.
func readUntilEOF(ev *tevent.Context, c *tsocket.Stream, got *[]byte, eof *int) {
	buf := make([]byte, 64)
	tsocket.ReadSomeSend(ev, c, buf).SetCallback(func(req *tevent.Req[int]) {
		n, err := tsocket.ReadSomeRecv(req)
		if err != nil {
			if err == io.EOF {
				*eof++
			}
			c.Close()
			return
		}
		*got = append(*got, buf[:n]...)
		readUntilEOF(ev, c, got, eof)
	})
}

// raiseNOFILE makes room for need descriptors more than are open, raising
// the soft limit to the hard one and, when the process may (root), the
// hard one too; the limits are restored at cleanup. It returns how many
// descriptors the test may open, which is less than need when the limits
// cannot be raised that far.
func raiseNOFILE(t testing.TB, need int) int {
	t.Helper()
	old, room, err := setNOFILE(need)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
			t.Errorf("restoring RLIMIT_NOFILE: %v", err)
		}
	})
	return room
}

func setNOFILE(need int) (old unix.Rlimit, room int, err error) {
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		return old, 0, err
	}
	want := testutil.OpenFDs() + need + 64
	if uint64(old.Cur) >= uint64(want) {
		return old, need, nil
	}
	lim := old
	testutil.SetRlim(&lim.Cur, want)
	if uint64(lim.Max) < uint64(want) {
		testutil.SetRlim(&lim.Max, want)
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		lim = old
		lim.Cur = old.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			return old, 0, err
		}
	}
	return old, min(need, int(lim.Cur)-testutil.OpenFDs()-64), nil
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clientsEnv makes a re-executed test binary the client process of
// TestServerShutdownManyConns; its value is "ADDRESS COUNT". The clients
// live in a process of their own so that each side needs one descriptor
// per connection, not two, within RLIMIT_NOFILE.
const clientsEnv = "GOTEVENT_TEST_SHUTDOWN_CLIENTS"

// TestServerClients is the client process of TestServerShutdownManyConns:
// it connects COUNT clients to ADDRESS, reads on each until EOF, and prints
// "DONE bye=B eof=E": how many read the BYE and nothing else, and how many
// then read EOF. Run directly, it has nothing to do.
func TestServerClients(t *testing.T) {
	spec := os.Getenv(clientsEnv)
	if spec == "" {
		t.Skip("only runs as the client process of TestServerShutdownManyConns")
	}
	// Exit at once: the parent judges the child by what it prints.
	if err := runClients(spec); err != nil {
		fmt.Println("FAIL", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runClients(spec string) error {
	var as string
	var n int
	if _, err := fmt.Sscan(spec, &as, &n); err != nil {
		return err
	}
	addr, err := tsocket.ParseAddress(as)
	if err != nil {
		return err
	}
	if _, room, err := setNOFILE(n); err != nil || room < n {
		return fmt.Errorf("room for %d descriptors of %d: %v", room, n, err)
	}
	ev, err := tevent.NewContext()
	if err != nil {
		return err
	}
	defer ev.Close()
	clients, err := connectN(ev, addr, n, func() bool { return true })
	if err != nil {
		return err
	}
	got := make([][]byte, n)
	eof := 0
	for i, c := range clients {
		readUntilEOF(ev, c, &got[i], &eof)
	}
	if err := ev.LoopWait(); err != nil {
		return err
	}
	bye := 0
	for _, g := range got {
		if string(g) == shutdownBye {
			bye++
		}
	}
	fmt.Printf("DONE bye=%d eof=%d\n", bye, eof)
	return nil
}

const shutdownBye = "* BYE shutting down\r\n"

// clientProc is the client process as the parent sees it: its output,
// read from a pipe watched by the parent's loop, and whether it has gone.
type clientProc struct {
	cmd  *exec.Cmd
	out  []byte
	gone bool // its output reached EOF: it has exited
}

// startClients starts the client process with n clients of addr.
func startClients(t testing.TB, ev *tevent.Context, addr tsocket.Address, n int) *clientProc {
	t.Helper()
	p, err := sys.Pipe() // close-on-exec, on every system
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(p[1], false); err != nil { // the child's stdout
		t.Fatal(err)
	}
	r, w := p[0], os.NewFile(uintptr(p[1]), "clients")
	cmd := testutil.SelfCommand("-test.run=^TestServerClients$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", clientsEnv, addr, n))
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	w.Close()
	if err == nil {
		err = unix.SetNonblock(r, true)
	}
	if err != nil {
		unix.Close(r)
		t.Fatal(err)
	}
	cp := &clientProc{cmd: cmd}
	buf := make([]byte, 4096)
	fde, err := ev.AddFD(r, tevent.FDRead, func(fde *tevent.FD, _ tevent.Flags) {
		k, err := unix.Read(r, buf)
		switch {
		case k > 0:
			cp.out = append(cp.out, buf[:k]...)
		case err == unix.EAGAIN || err == unix.EINTR:
		default: // EOF, or an error that makes it one
			cp.gone = true
			fde.Remove()
		}
	})
	if err != nil {
		cmd.Process.Kill()
	}
	t.Cleanup(func() {
		if !cp.gone {
			cmd.Process.Kill()
			if fde != nil {
				fde.Remove()
			}
		}
		unix.Close(r)
		cmd.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// A server holding many connections shuts down within its grace period:
// the OnShutdown hook says BYE to every open stream, once; half the
// handlers close their stream after the BYE is written, which counts them
// out of Conns during the grace period; the rest are closed by force when
// it ends, and ShutdownRecv says how many. The clients, in a process of
// their own, all read the BYE and then EOF. The grace logic runs on the
// fake clock, so the test asserts no wall-clock time; it logs it.
func TestServerShutdownManyConns(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 500
	}
	if room := raiseNOFILE(t, n); room < n {
		n = room
		t.Logf("RLIMIT_NOFILE leaves room for %d connections only", n)
	}
	const grace = 5 * time.Second
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(shutdownStart)))
		accepted := 0
		polite := map[*tsocket.Stream]bool{} // closes itself after the BYE
		srv, _ := serveTest(t, ev, func(s *tsocket.Stream) {
			polite[s] = accepted%2 == 0
			accepted++
		})
		t0 := time.Now()
		cp := startClients(t, ev, srv.Addr(), n)
		if err := ev.LoopUntil(func() bool { return srv.Conns() == n || cp.gone }); err != nil {
			t.Fatal(err)
		}
		if cp.gone {
			t.Fatalf("the client process ended early:\n%s", cp.out)
		}
		t.Logf("%d connections open in %v", n, time.Since(t0))

		bye := [][]byte{[]byte(shutdownBye)}
		hooked := map[*tsocket.Stream]int{}
		srv.OnShutdown(func(s *tsocket.Stream) {
			hooked[s]++
			tsocket.WritevSend(ev, s, bye).SetCallback(func(req *tevent.Req[int]) {
				if _, err := tsocket.WritevRecv(req); err != nil || polite[s] {
					s.Close()
				}
			})
		})
		midway := -1
		start := ev.Now()
		ev.AddTimer(start.Add(grace/2), func(*tevent.Timer, time.Time) { midway = srv.Conns() })
		t1, cpu1 := time.Now(), cpuTime()
		req := tsocket.ShutdownSend(ev, srv, grace)
		poll(t, req)
		wall, cpu, took := time.Since(t1), cpuTime()-cpu1, ev.Now().Sub(start)
		err := tsocket.ShutdownRecv(req)
		t.Logf("shutdown of %d connections: %v on the fake clock, %v of wall time, %v of CPU: %v", n, took, wall, cpu, err)

		impolite := n / 2
		var se *tsocket.ShutdownError
		if !errors.As(err, &se) || se.Forced != impolite || !errors.Is(err, tevent.ErrTimedOut) || !errors.Is(err, syscall.ETIMEDOUT) {
			t.Fatalf("ShutdownRecv = %v; want a ShutdownError for %d connections closed by force, wrapping ErrTimedOut", err, impolite)
		}
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Errorf("ShutdownRecv error %v is not a net.Error timing out", err)
		}
		if took != grace {
			t.Errorf("shutdown took %v on the fake clock; want the grace period, %v", took, grace)
		}
		if midway != impolite {
			t.Errorf("Conns halfway through the grace period = %d; want %d (the polite half closed)", midway, impolite)
		}
		if srv.Conns() != 0 {
			t.Errorf("Conns after the shutdown = %d", srv.Conns())
		}
		if len(hooked) != n {
			t.Errorf("OnShutdown called for %d streams; want %d", len(hooked), n)
		}
		for _, k := range hooked {
			if k != 1 {
				t.Fatalf("OnShutdown called %d times for one stream", k)
			}
		}
		if err := ev.LoopUntil(func() bool { return cp.gone }); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("DONE bye=%d eof=%d\n", n, n); !strings.Contains(string(cp.out), want) {
			t.Errorf("the clients said:\n%s\nwant %q", cp.out, want)
		}
	})
}

// Handlers that close their streams when the clients go away count down
// Conns, and a shutdown whose clients all leave when told finishes with
// nil as soon as the last one has, long before the grace period ends. It
// runs on the real clock: the clients' FINs cross loopback, and a fake
// clock would jump to the end of the grace period whenever none was in
// yet.
func TestServerShutdownGraceful(t *testing.T) {
	const n = 20
	const grace = time.Minute
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		srv, _ := serveTest(t, ev, nil)
		clients := dialN(t, ev, srv, n)
		var seen []int // Conns after each close
		srv.OnShutdown(func(s *tsocket.Stream) {
			tsocket.WritevSend(ev, s, [][]byte{[]byte("BYE\n")})
		})
		for _, c := range clients {
			tsocket.ReadSomeSend(ev, c, make([]byte, 4)).SetCallback(func(req *tevent.Req[int]) {
				tsocket.ReadSomeRecv(req)
				c.Close() // the client leaves: the server's read sees EOF
			})
		}
		start := ev.Now()
		req := tsocket.ShutdownSend(ev, srv, grace)
		req.SetCallback(func(*tevent.Req[struct{}]) {})
		if err := ev.LoopUntil(func() bool {
			if len(seen) == 0 || seen[len(seen)-1] != srv.Conns() {
				seen = append(seen, srv.Conns())
			}
			return !req.IsInProgress()
		}); err != nil {
			t.Fatal(err)
		}
		if err := tsocket.ShutdownRecv(req); err != nil {
			t.Fatalf("ShutdownRecv = %v; want nil", err)
		}
		if took := ev.Now().Sub(start); took >= grace {
			t.Errorf("shutdown took %v; want it over before the grace period, %v", took, grace)
		}
		if len(seen) < 2 || seen[0] != n || seen[len(seen)-1] != 0 {
			t.Errorf("Conns went %v; want from %d down to 0", seen, n)
		}
		for i := 1; i < len(seen); i++ {
			if seen[i] >= seen[i-1] {
				t.Fatalf("Conns went %v: not counting down", seen)
			}
		}
		if err := shutdown(t, ev, srv, grace); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second ShutdownSend: %v; want net.ErrClosed", err)
		}
	})
}

// shutdown runs ShutdownSend to the end and returns its error.
func shutdown(t testing.TB, ev *tevent.Context, srv *tsocket.Server, grace time.Duration) error {
	t.Helper()
	req := tsocket.ShutdownSend(ev, srv, grace)
	poll(t, req)
	return tsocket.ShutdownRecv(req)
}

// A Server with nothing open shuts down at once; Addr is the listener's;
// a second ShutdownSend while one runs is ErrBusy, and Close during a
// shutdown closes the rest and fails it with net.ErrClosed.
func TestServerShutdownEdges(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(shutdownStart)))
		srv, l := serveTest(t, ev, nil)
		if srv.Addr() != l.Addr() {
			t.Errorf("Addr = %v; want the listener's, %v", srv.Addr(), l.Addr())
		}
		if err := shutdown(t, ev, srv, time.Second); err != nil {
			t.Errorf("shutdown with no connections: %v", err)
		}
		if !ev.Now().Equal(shutdownStart) {
			t.Errorf("shutdown with no connections took %v", ev.Now().Sub(shutdownStart))
		}
		// The listener is closed: a connect is refused.
		c := tsocket.ConnectSend(ev, nil, l.Addr())
		poll(t, c)
		if _, err := tsocket.ConnectRecv(c); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("connect after shutdown: %v; want ECONNREFUSED", err)
		}

		srv2, _ := serveTest(t, ev, nil)
		dialN(t, ev, srv2, 3)
		req := tsocket.ShutdownSend(ev, srv2, time.Hour)
		if err := shutdown(t, ev, srv2, time.Hour); !errors.Is(err, tsocket.ErrBusy) {
			t.Errorf("second ShutdownSend: %v; want ErrBusy", err)
		}
		if err := srv2.Close(); err != nil {
			t.Fatal(err)
		}
		poll(t, req)
		err := tsocket.ShutdownRecv(req)
		var se *tsocket.ShutdownError
		if !errors.As(err, &se) || se.Forced != 3 || !errors.Is(err, net.ErrClosed) || errors.Is(err, tevent.ErrTimedOut) {
			t.Errorf("ShutdownRecv after Close = %v; want 3 closed by force, net.ErrClosed", err)
		}
		if srv2.Conns() != 0 {
			t.Errorf("Conns after Close = %d", srv2.Conns())
		}
		if err := srv2.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

// Past SetMaxConns open streams the Server stops accepting and leaves the
// next connection in the backlog; it takes it as soon as one of its
// streams is closed.
func TestServerMaxConns(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		var served []*tsocket.Stream
		srv, l := serveTest(t, ev, func(s *tsocket.Stream) { served = append(served, s) })
		srv.SetMaxConns(2)
		dialN(t, ev, srv, 2)
		third := tsocket.ConnectSend(ev, nil, srv.Addr())
		poll(t, third) // the handshake completes into the backlog
		c, err := tsocket.ConnectRecv(third)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Let the loop run a while: whatever it does, the server is not
		// accepting (no accept in flight, no event on the listener).
		for range 3 {
			ev.AddTimer(ev.Now(), func(*tevent.Timer, time.Time) {})
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
		}
		if srv.Conns() != 2 || l.HasEvent() {
			t.Fatalf("at the bound: Conns %d, listener watched %v; want 2, false", srv.Conns(), l.HasEvent())
		}
		served[0].Close()
		if err := ev.LoopUntil(func() bool { return len(served) == 3 }); err != nil {
			t.Fatal(err)
		}
		if srv.Conns() != 2 {
			t.Errorf("Conns = %d after one closed and the waiting one came in; want 2", srv.Conns())
		}
		srv.SetMaxConns(0)
		dialN(t, ev, srv, 3) // 2 open, 3 more: past the old bound
		if srv.Conns() != 5 {
			t.Errorf("Conns without a bound = %d; want 5", srv.Conns())
		}
	})
}

// Accept errors do not stop the Server: EMFILE backs the listener off
// (no busy loop), ECONNABORTED is retried at once, and any other error is
// reported to OnAcceptError and retried after a back-off on the loop's
// clock that doubles from 5 ms.
func TestServerAcceptErrors(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(shutdownStart)))
		inject := []error{unix.EMFILE, unix.ECONNABORTED, unix.EPROTO, unix.EPROTO}
		calls := 0
		restore := tsocket.SetAccept(func(fd int) (int, unix.Sockaddr, error) {
			calls++
			if len(inject) > 0 {
				err := inject[0]
				inject = inject[1:]
				return -1, nil, err
			}
			return tsocket.RealAccept(fd)
		})
		defer restore()
		srv, _ := serveTest(t, ev, nil)
		var reported []error
		srv.OnAcceptError(func(err error) { reported = append(reported, err) })
		dialN(t, ev, srv, 1)
		if len(inject) != 0 || len(reported) != 2 || !errors.Is(reported[0], unix.EPROTO) || !errors.Is(reported[1], unix.EPROTO) {
			t.Fatalf("reported %v, %d injected errors left; want two EPROTO, none left", reported, len(inject))
		}
		// 5 ms for the listener after EMFILE, 5 and 10 for the Server.
		if took := ev.Now().Sub(shutdownStart); took != 20*time.Millisecond {
			t.Errorf("the connection came in after %v on the fake clock; want 20ms of back-off", took)
		}
		if calls > 8 {
			t.Errorf("%d accept4 calls for one connection: the server spins", calls)
		}
		dialN(t, ev, srv, 1) // the back-off was reset by the success
		if took := ev.Now().Sub(shutdownStart); took != 20*time.Millisecond {
			t.Errorf("a second connection took %v more", took-20*time.Millisecond)
		}
	})
}

// Closing the context closes the listener and every stream the Server
// tracks; the clients see EOF.
func TestServerContextClose(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		srv, _ := serveTest(t, ev, nil)
		var clients []net.Conn
		for range 4 {
			c, err := net.Dial("tcp", srv.Addr().(*tsocket.InetAddr).AddrPort().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			clients = append(clients, c)
		}
		if err := ev.LoopUntil(func() bool { return srv.Conns() == len(clients) }); err != nil {
			t.Fatal(err)
		}
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		<-ev.Done()
		if srv.Conns() != 0 {
			t.Errorf("Conns after Context.Close = %d", srv.Conns())
		}
		for i, c := range clients {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if line, err := bufio.NewReader(c).ReadString('\n'); err == nil {
				t.Errorf("client %d read %q; want EOF", i, line)
			}
		}
		if err := srv.Close(); err != nil {
			t.Errorf("Close after Context.Close: %v", err)
		}
	})
}

// Shutting down a server of 1000 connections whose clients leave when told,
// on the real clock: what a graceful shutdown costs the loop.
func BenchmarkServerShutdown(b *testing.B) {
	const n = 1000
	raiseNOFILE(b, 2*n)
	ev, err := tevent.NewContext()
	if err != nil {
		b.Fatal(err)
	}
	defer ev.Close()
	for b.Loop() {
		b.StopTimer()
		srv, _ := serveTest(b, ev, nil)
		srv.OnShutdown(func(s *tsocket.Stream) { tsocket.WritevSend(ev, s, [][]byte{[]byte("BYE\n")}) })
		for _, c := range dialN(b, ev, srv, n) {
			tsocket.ReadSomeSend(ev, c, make([]byte, 4)).SetCallback(func(*tevent.Req[int]) { c.Close() })
		}
		b.StartTimer()
		if err := shutdown(b, ev, srv, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(n, "conns/op")
}
