package tsocket_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

func TestConnectRefused(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		l, err := tsocket.Listen(ev, loopback4(t))
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr()
		closeT(t, l) // nothing listens on addr now
		req := tsocket.ConnectSend(ev, nil, addr)
		poll(t, req)
		s, err := tsocket.ConnectRecv(req)
		var oe *tsocket.OpError
		if !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &oe) || oe.Op != "connect" {
			t.Fatalf("ConnectRecv = %v, %v; want ECONNREFUSED", s, err)
		}
	})
}

func TestUnixListenConnect(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		path, ua, l := unixListener(t, ev)
		a := tsocket.AcceptSend(ev, l)
		c := tsocket.ConnectSend(ev, nil, ua)
		poll(t, a)
		poll(t, c)
		srv, err := tsocket.AcceptRecv(a)
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, srv)
		cli, err := tsocket.ConnectRecv(c)
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, cli)
		if got := srv.LocalAddress().String(); got != "unix:"+path {
			t.Errorf("LocalAddress = %s", got)
		}
		// A second accept while one is in flight is EBUSY; Close fails
		// the first with net.ErrClosed and removes the socket file.
		a1 := tsocket.AcceptSend(ev, l)
		a2 := tsocket.AcceptSend(ev, l)
		poll(t, a2)
		if _, err := tsocket.AcceptRecv(a2); !errors.Is(err, syscall.EBUSY) {
			t.Errorf("second accept: %v, want EBUSY", err)
		}
		closeT(t, l)
		poll(t, a1)
		if _, err := tsocket.AcceptRecv(a1); !errors.Is(err, errClosed()) {
			t.Errorf("accept after Close: %v", err)
		}
		if err := unix.Access(path, unix.F_OK); err == nil {
			t.Errorf("socket file left behind")
		}
	})
}

func TestExistingSocket(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		a, err := tsocket.ExistingSocket(ev, fds[0])
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, a)
		b, err := tsocket.ExistingSocket(ev, fds[1])
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, b)
		buf := make([]byte, 2)
		r := tsocket.ReadvSend(ev, b, [][]byte{buf})
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("ok")}))
		poll(t, r)
		if n, err := tsocket.ReadvRecv(r); n != 2 || err != nil || string(buf) != "ok" {
			t.Fatalf("ReadvRecv = %d, %v, %q", n, err, buf)
		}
		pfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(pfd)
		if _, err := tsocket.ExistingSocket(ev, pfd); err == nil {
			t.Errorf("ExistingSocket accepted a datagram socket")
		}
	})
}

func TestReusePort(t *testing.T) {
	ev, err := tevent.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	l1, err := tsocket.Listen(ev, loopback4(t), tsocket.ReusePort())
	if err != nil {
		t.Fatal(err)
	}
	defer closeT(t, l1)
	l2, err := tsocket.Listen(ev, l1.Addr(), tsocket.ReusePort(), tsocket.Backlog(16))
	if err != nil {
		t.Fatalf("second listener on %s: %v", l1.Addr(), err)
	}
	defer closeT(t, l2)
	if _, err := tsocket.Listen(ev, l1.Addr()); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("listener without ReusePort: %v, want EADDRINUSE", err)
	}
}

// Accept under EMFILE backs off on a timer instead of spinning on the
// readable listener, and recovers once descriptors are available again.
func TestAcceptEMFILE(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		clock := tevent.NewFakeClock(time.Unix(1e9, 0))
		ev := newCtx(tevent.WithClock(clock))
		l, err := tsocket.Listen(ev, loopback4(t))
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, l)
		failures := 0
		restore := tsocket.SetAccept(func(fd int) (int, unix.Sockaddr, error) {
			if failures < 6 {
				failures++
				return -1, nil, unix.EMFILE
			}
			return tsocket.RealAccept(fd)
		})
		defer restore()
		c := tsocket.ConnectSend(ev, nil, l.Addr())
		poll(t, c) // the connection waits in the backlog: the listener is readable
		cli, err := tsocket.ConnectRecv(c)
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, cli)
		start, t0 := ev.Iterations(), clock.Now()
		a := tsocket.AcceptSend(ev, l)
		poll(t, a)
		srv, err := tsocket.AcceptRecv(a)
		if err != nil {
			t.Fatalf("accept after EMFILE: %v", err)
		}
		defer closeT(t, srv)
		if n := ev.Iterations() - start; n > 20 {
			t.Errorf("accept took %d loop iterations over %d EMFILE failures: spinning", n, failures)
		}
		// 5+10+20+40+80+160 ms of back-off.
		if waited := clock.Now().Sub(t0); waited < 300*time.Millisecond {
			t.Errorf("backed off only %v", waited)
		}
	})
}

func errClosed() error { return net.ErrClosed }

// unixListener listens on a unix socket in a temporary directory, closed
// at cleanup (closing it again is harmless).
func unixListener(t *testing.T, ev *tevent.Context) (string, tsocket.Address, *tsocket.Listener) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sock")
	ua, err := tsocket.UnixAddress(path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tsocket.Listen(ev, ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return path, ua, l
}

// A burst of waiting connections is accepted AcceptChain at a time, each
// callback running straight after its accept, not one per iteration.
func TestAcceptChain(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		path, _, l := unixListener(t, ev)
		const conns = tsocket.AcceptChain + 4
		// The clients connect with plain blocking calls: the connections
		// wait in the backlog before the loop runs.
		for range conns {
			fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
				t.Fatal(err)
			}
		}
		var accepted []*tsocket.Stream
		defer func() {
			for _, s := range accepted {
				closeT(t, s)
			}
		}()
		var next func()
		next = func() {
			if len(accepted) == conns {
				return
			}
			tsocket.AcceptSend(ev, l).SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
				s, err := tsocket.AcceptRecv(req)
				if err != nil {
					t.Errorf("accept: %v", err)
					return
				}
				accepted = append(accepted, s)
				next()
			})
		}
		// The first accept waits: its callback goes through the loop.
		next()
		for len(accepted) == 0 {
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
		}
		start := len(accepted)
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if got := len(accepted) - start; got != tsocket.AcceptChain && len(accepted) != conns {
			t.Fatalf("one iteration accepted %d connections, want %d", got, tsocket.AcceptChain)
		}
		for len(accepted) < conns {
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Close removes the socket file the listener created. One already gone is
// no error; one that cannot be removed is, since the next bind to the path
// would fail (here a directory has taken its place: unlink(2) says EISDIR).
func TestUnixListenerCloseUnlinks(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		path, _, l := unixListener(t, ev)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("Close with the socket file gone: %v", err)
		}
		path, _, l = unixListener(t, ev)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		err := l.Close()
		var oe *tsocket.OpError
		if !errors.Is(err, syscall.EISDIR) || !errors.As(err, &oe) || oe.Op != "close" {
			t.Errorf("Close with a directory at the path: %v, want EISDIR in Op close", err)
		}
	})
}
