package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// The EMFILE test runs its server in a child process whose RLIMIT_NOFILE is
// set just above what it has open, so that accept4 fails with EMFILE while
// a few connections are open. The parent drives it with TCP clients and
// with commands on the child's stdin:
//
//	child: ADDR 127.0.0.1:PORT        once listening
//	child: READY fds=N limit=L        once the limit is lowered
//	parent: STAT                      child: STAT iters=I cpu=NS conns=C
//	parent: WAIT MS                   child: WAITED (a loop timer, MS later)
//
// The server answers "ECHO x\n" with "x\n" on every connection.

const (
	emfileBackendEnv = "GOTEVENT_TEST_BACKEND"
	emfileSlotsEnv   = "GOTEVENT_TEST_SLOTS" // connections the child can hold
)

func init() { childModes["emfile"] = emfileChild }

func emfileChild() int {
	slots, err := strconv.Atoi(os.Getenv(emfileSlotsEnv))
	if err != nil {
		return childFatal("%s: %v", emfileSlotsEnv, err)
	}
	ev, err := tevent.NewContext(tevent.WithBackend(os.Getenv(emfileBackendEnv)))
	if err != nil {
		return childFatal("NewContext: %v", err)
	}
	addr, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		return childFatal("Listen: %v", err)
	}
	srv := &echoServer{ev: ev, l: l, conns: make(map[*echoConn]bool)}
	childOut("ADDR %s", l.Addr().(*tsocket.InetAddr).AddrPort())
	// Lower the limit only now: the context, the listener and the stdin
	// reader are in place, and every descriptor from here on is an accepted
	// connection. The limit bounds descriptor numbers, not their count, so
	// the holes below the highest open number are filled first.
	open, err := fillFDHoles()
	if err != nil {
		return childFatal("%v", err)
	}
	var lim unix.Rlimit
	testutil.SetRlim(&lim.Cur, open+slots)
	testutil.SetRlim(&lim.Max, open+slots)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return childFatal("setrlimit: %v", err)
	}
	srv.accept()
	status := 0
	childStdin(ev, func(line string) {
		cmd, arg, _ := strings.Cut(line, " ")
		switch cmd {
		case "STAT":
			childOut("STAT iters=%d cpu=%d conns=%d", ev.Iterations(), cpuTime(), len(srv.conns))
		case "WAIT":
			ms, _ := strconv.Atoi(arg)
			ev.AddTimer(ev.Now().Add(time.Duration(ms)*time.Millisecond), func(*tevent.Timer, time.Time) { childOut("WAITED") })
		default:
			childOut("LOG unknown command %q", line)
			status = 1
		}
	}, func() {
		srv.close()
		ev.Close()
	})
	childOut("READY fds=%d limit=%d", open, lim.Cur)
	if err := ev.LoopWait(); err != nil {
		return childFatal("loop: %v", err)
	}
	return status
}

// fillFDHoles makes every descriptor number up to the highest one open
// occupied (by duplicates of stdin) and returns how many numbers that is.
func fillFDHoles() (int, error) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	open := map[int]bool{}
	top := 0
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// The descriptor ReadDir used is closed by now; it is one of the
		// holes if it was below the top.
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			open[fd] = true
			top = max(top, fd)
		}
	}
	for fd := 0; fd < top; fd++ {
		if !open[fd] {
			if err := sys.Dup2(0, fd); err != nil {
				return 0, fmt.Errorf("dup3 onto %d: %v", fd, err)
			}
		}
	}
	return top + 1, nil
}

// echoServer answers "ECHO x" lines with "x" on every connection it
// accepts, reading lines through ReadvPDU.
type echoServer struct {
	ev     *tevent.Context
	l      *tsocket.Listener
	conns  map[*echoConn]bool
	acc    *tevent.Req[*tsocket.Stream]
	closed bool
}

type echoConn struct {
	srv *echoServer
	s   *tsocket.Stream
	in  []byte
	got int // bytes of in handed to the last vector
}

func (srv *echoServer) accept() {
	srv.acc = tsocket.AcceptSend(srv.ev, srv.l)
	srv.acc.SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
		srv.acc = nil
		s, err := tsocket.AcceptRecv(req)
		if err != nil {
			childOut("LOG accept: %v", err)
		} else {
			c := &echoConn{srv: srv, s: s}
			srv.conns[c] = true
			c.read()
		}
		srv.accept()
	})
}

func (srv *echoServer) close() {
	srv.closed = true
	if srv.acc != nil {
		srv.acc.Abandon()
	}
	srv.l.Close()
	for c := range srv.conns {
		c.s.Close()
	}
}

// next reads whatever has arrived, one vector at a time, until the buffer
// holds a whole line.
func (c *echoConn) next(s *tsocket.Stream) ([][]byte, error) {
	c.in = c.in[:len(c.in)+c.got]
	c.got = 0
	if bytes.IndexByte(c.in, '\n') >= 0 {
		return nil, nil
	}
	n, err := s.PendingBytes()
	if err != nil {
		return nil, err
	}
	n = max(n, 1)
	c.in = append(c.in, make([]byte, n)...)[:len(c.in)]
	c.got = n
	return [][]byte{c.in[len(c.in) : len(c.in)+n]}, nil
}

func (c *echoConn) read() {
	tsocket.ReadvPDUSend(c.srv.ev, c.s, c.next).SetCallback(func(req *tevent.Req[struct{}]) {
		if err := tsocket.ReadvPDURecv(req); err != nil {
			delete(c.srv.conns, c)
			c.s.Close()
			return
		}
		var out []byte
		for {
			i := bytes.IndexByte(c.in, '\n')
			if i < 0 {
				break
			}
			line := string(c.in[:i])
			c.in = c.in[:copy(c.in, c.in[i+1:])]
			out = append(out, strings.TrimPrefix(line, "ECHO ")...)
			out = append(out, '\n')
		}
		w := tsocket.WritevSend(c.srv.ev, c.s, [][]byte{out})
		w.SetCallback(func(req *tevent.Req[int]) {
			if _, err := tsocket.WritevRecv(req); err != nil {
				delete(c.srv.conns, c)
				c.s.Close()
				return
			}
			c.read()
		})
	})
}

type childStat struct {
	iters uint64
	cpu   time.Duration
	conns int
}

func (c *child) stat() childStat {
	c.t.Helper()
	c.send("STAT")
	var s childStat
	var cpu int64
	if _, err := fmt.Sscanf(c.expect("STAT "), "iters=%d cpu=%d conns=%d", &s.iters, &cpu, &s.conns); err != nil {
		c.t.Fatalf("STAT: %v", err)
	}
	s.cpu = time.Duration(cpu)
	return s
}

// echoClient is a blocking client of the echo server.
type echoClient struct {
	conn net.Conn
	r    *bufio.Reader
}

func (e *echoClient) echo(t testing.TB, msg string) {
	t.Helper()
	if _, err := fmt.Fprintf(e.conn, "ECHO %s\n", msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	e.expect(t, msg)
}

func (e *echoClient) expect(t testing.TB, msg string) {
	t.Helper()
	e.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	got, err := e.r.ReadString('\n')
	if err != nil || got != msg+"\n" {
		t.Fatalf("reply %q, %v; want %q", got, err, msg)
	}
}

// A server out of descriptors (accept4 fails with EMFILE) keeps serving the
// connections it has, does not spin while connections wait in its backlog
// (its loop iterations and CPU time over a second of waiting stay small; a
// loop that kept retrying the readable listener would run millions of
// iterations and burn the whole second), and accepts the waiting
// connections, whose requests were queued meanwhile, as soon as
// descriptors are freed.
func TestFaultEMFILEOnAccept(t *testing.T) {
	const slots, waiting = 3, 3
	forEachBackend(t, func(t *testing.T, backend string) {
		ch := startChild(t, "emfile", emfileBackendEnv+"="+backend, fmt.Sprintf("%s=%d", emfileSlotsEnv, slots))
		addr := ch.expect("ADDR ")
		t.Logf("child: %s", ch.expect("READY "))
		dial := func() *echoClient {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			return &echoClient{conn: conn, r: bufio.NewReader(conn)}
		}
		var held []*echoClient
		for i := range slots {
			c := dial()
			c.echo(t, fmt.Sprintf("held-%d", i))
			held = append(held, c)
		}
		// These complete the handshake into the backlog, but the server
		// cannot accept them: their requests wait in the kernel.
		var queued []*echoClient
		for i := range waiting {
			c := dial()
			if _, err := fmt.Fprintf(c.conn, "ECHO waiting-%d\n", i); err != nil {
				t.Fatal(err)
			}
			queued = append(queued, c)
		}
		// The held connections are served meanwhile.
		for i := range 50 {
			held[i%slots].echo(t, fmt.Sprintf("busy-%d", i))
		}
		before := ch.stat()
		if before.conns != slots {
			t.Fatalf("server holds %d connections, want %d (the limit did not bite?)", before.conns, slots)
		}
		ch.send("WAIT 1000")
		ch.expect("WAITED")
		after := ch.stat()
		iters, cpu := after.iters-before.iters, after.cpu-before.cpu
		t.Logf("over a second out of descriptors: %d loop iterations, %v CPU", iters, cpu)
		// Accept back-off doubles from 5 ms to a 1 s cap: about ten
		// retries in the first second. The bounds are generous.
		if iters > 200 {
			t.Errorf("%d loop iterations in a second with connections waiting: the loop spins", iters)
		}
		if cpu > 500*time.Millisecond {
			t.Errorf("%v of CPU in a second with connections waiting: the loop spins", cpu)
		}
		if after.conns != slots {
			t.Fatalf("server holds %d connections, want %d", after.conns, slots)
		}
		// Free descriptors one at a time: each lets one waiting
		// connection in, and its queued request is answered.
		for i := range waiting {
			held[i].conn.Close()
			queued[i].expect(t, fmt.Sprintf("waiting-%d", i))
			queued[i].echo(t, fmt.Sprintf("after-%d", i))
		}
		for _, c := range append(held[waiting:], queued...) {
			c.echo(t, "last")
		}
		ch.wait()
	})
}
