package tsocket_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// pipeFds returns a non-blocking, close-on-exec pipe, closed at cleanup:
// descriptors to pass around.
func pipeFds(t *testing.T) [2]int {
	t.Helper()
	p, err := sys.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close(p[0]); sys.Close(p[1]) })
	return p
}

// closeFdsAtCleanup closes received descriptors when the test ends.
func closeFdsAtCleanup(t *testing.T, fds []int) {
	t.Cleanup(func() {
		for _, fd := range fds {
			sys.Close(fd)
		}
	})
}

// isCloexec reports whether fd has FD_CLOEXEC set.
func isCloexec(t *testing.T, fd int) bool {
	t.Helper()
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil {
		t.Fatalf("fcntl(%d, F_GETFD): %v", fd, err)
	}
	return fl&unix.FD_CLOEXEC != 0
}

// samePipe checks that w and r are ends of one pipe: a byte written to w
// is read from r.
func samePipe(t *testing.T, w, r int) {
	t.Helper()
	if _, err := unix.Write(w, []byte{'p'}); err != nil {
		t.Fatalf("write to fd %d: %v", w, err)
	}
	b := make([]byte, 2)
	if n, err := unix.Read(r, b); n != 1 || err != nil || b[0] != 'p' {
		t.Fatalf("read from fd %d = %d, %v; want the byte written to fd %d", r, n, err, w)
	}
}

func sendFDs(t *testing.T, ev *tevent.Context, s *tsocket.Stream, iov [][]byte, fds []int) {
	t.Helper()
	req := tsocket.SendFDsSend(ev, s, iov, fds)
	poll(t, req)
	if n, err := tsocket.SendFDsRecv(req); err != nil || n != lenIov(iov) {
		t.Fatalf("SendFDsRecv = %d, %v; want %d", n, err, lenIov(iov))
	}
}

func recvFDs(t *testing.T, ev *tevent.Context, s *tsocket.Stream, buf []byte, maxFDs int) (int, []int) {
	t.Helper()
	req := tsocket.RecvFDsSend(ev, s, buf, maxFDs)
	poll(t, req)
	n, fds, err := tsocket.RecvFDsRecv(req)
	closeFdsAtCleanup(t, fds)
	if err != nil {
		t.Fatalf("RecvFDsRecv: %v", err)
	}
	return n, fds
}

func lenIov(iov [][]byte) int {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	return n
}

// Descriptors sent on one stream arrive on the other with their bytes,
// close-on-exec, referring to the same files; a receive that waits for
// them works as one that finds them there.
func TestFDPassing(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		p := pipeFds(t)
		sendFDs(t, ev, a, [][]byte{[]byte("he"), []byte("llo")}, p[:])
		buf := make([]byte, 16)
		n, fds := recvFDs(t, ev, b, buf, 2)
		if string(buf[:n]) != "hello" || len(fds) != 2 {
			t.Fatalf("received %q with %d descriptors; want \"hello\" with 2", buf[:n], len(fds))
		}
		for _, fd := range fds {
			if !isCloexec(t, fd) {
				t.Errorf("received fd %d is not close-on-exec", fd)
			}
		}
		samePipe(t, fds[1], p[0])
		samePipe(t, p[1], fds[0])

		// The receive first, waiting; then the send, from the other end.
		rreq := tsocket.RecvFDsSend(ev, a, buf, 1)
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if !rreq.IsInProgress() {
			t.Fatal("RecvFDsSend finished with nothing sent")
		}
		sendFDs(t, ev, b, [][]byte{[]byte("x")}, p[1:])
		poll(t, rreq)
		n, fds, err := tsocket.RecvFDsRecv(rreq)
		closeFdsAtCleanup(t, fds)
		if err != nil || string(buf[:n]) != "x" || len(fds) != 1 {
			t.Fatalf("waiting RecvFDsRecv = %q, %v, %v", buf[:n], fds, err)
		}
		samePipe(t, fds[0], p[0])

		// Without descriptors a SendFDsSend is a writev, and a
		// RecvFDsSend a read.
		sendFDs(t, ev, a, [][]byte{[]byte("plain")}, nil)
		if n, fds := recvFDs(t, ev, b, buf, 1); string(buf[:n]) != "plain" || fds != nil {
			t.Fatalf("received %q with %v; want \"plain\" with none", buf[:n], fds)
		}
	})
}

// netUnixPair returns a unix stream on ev and a net.UnixConn connected to
// it.
func netUnixPair(t *testing.T, ev *tevent.Context) (*tsocket.Stream, *net.UnixConn) {
	t.Helper()
	x, y := testutil.Socketpair(t)
	s, err := tsocket.ExistingSocket(ev, x)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := os.NewFile(uintptr(y), "peer")
	c, err := net.FileConn(f) // a duplicate of y
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c.(*net.UnixConn)
}

// SendFDsSend and RecvFDsSend speak what Go's net.UnixConn speaks.
func TestFDPassingInteropWithNet(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		s, c := netUnixPair(t, ev)
		p := pipeFds(t)

		if _, _, err := c.WriteMsgUnix([]byte("from net"), unix.UnixRights(p[1]), nil); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, fds := recvFDs(t, ev, s, buf, 1)
		if string(buf[:n]) != "from net" || len(fds) != 1 {
			t.Fatalf("received %q with %v", buf[:n], fds)
		}
		samePipe(t, fds[0], p[0])

		sendFDs(t, ev, s, [][]byte{[]byte("from "), []byte("tsocket")}, p[:1])
		oob := make([]byte, unix.CmsgSpace(4))
		n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil || string(buf[:n]) != "from tsocket" || flags&unix.MSG_CTRUNC != 0 {
			t.Fatalf("ReadMsgUnix = %q, flags %#x, %v", buf[:n], flags, err)
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			t.Fatalf("control messages %v, %v; want one", msgs, err)
		}
		got, err := unix.ParseUnixRights(&msgs[0])
		closeFdsAtCleanup(t, got)
		if err != nil || len(got) != 1 {
			t.Fatalf("rights %v, %v; want one descriptor", got, err)
		}
		samePipe(t, p[1], got[0])
	})
}

// More descriptors than maxFDs: ErrFDsTruncated, and every descriptor
// that arrived is closed, so the process holds as many as before the
// receive. Two for a maxFDs of 1 fit the control buffer on 64-bit
// systems (it is aligned to 8 bytes) and are refused all the same.
func TestFDPassingTruncated(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		p := pipeFds(t)
		for _, tc := range []struct{ sent, max int }{{4, 1}, {2, 1}, {1, 0}} {
			fds := make([]int, tc.sent)
			for i := range fds {
				fds[i] = p[i%2]
			}
			sendFDs(t, ev, a, [][]byte{[]byte("x")}, fds)
			before := testutil.OpenFDs()
			req := tsocket.RecvFDsSend(ev, b, make([]byte, 8), tc.max)
			poll(t, req)
			n, got, err := tsocket.RecvFDsRecv(req)
			var oe *tsocket.OpError
			if !errors.Is(err, tsocket.ErrFDsTruncated) || !errors.Is(err, syscall.EMSGSIZE) || !errors.As(err, &oe) || oe.Op != "read" {
				t.Errorf("%d sent, maxFDs %d: RecvFDsRecv = %d, %v, %v; want ErrFDsTruncated in an *OpError read", tc.sent, tc.max, n, got, err)
			}
			after := testutil.OpenFDs()
			switch {
			case after != before && testutil.UnderQemu():
				// qemu-user hands the kernel a control buffer larger than
				// the program's and drops the rights that do not fit the
				// program's one: those descriptors are open in the process
				// but were never reported, so no program can close them.
				t.Logf("%d sent, maxFDs %d: %d descriptors left open by qemu-user's recvmsg", tc.sent, tc.max, after-before)
				testutil.CloseCopies(p[0], p[1])
			case after != before:
				t.Errorf("%d sent, maxFDs %d: %d descriptors open after the receive, %d before", tc.sent, tc.max, after, before)
			}
		}
	})
}

// Only plain unix streams pass descriptors: TCP and TLS streams, even TLS
// over a unix stream, refuse with EINVAL, and so does a negative maxFDs.
func TestFDPassingInvalid(t *testing.T) {
	ev := newCtxOn(t, "poll")
	tcp, _ := tcpPair(t, ev)
	ua, ub := unixPair(t, ev)
	cfg := testutil.TLS(t)
	creq := tsocket.TLSClientSend(ev, ua, cfg.Client)
	sreq := tsocket.TLSServerSend(ev, ub, cfg.Server)
	poll(t, creq)
	poll(t, sreq)
	tlsUnix, err := tsocket.TLSClientRecv(creq)
	if err != nil {
		t.Fatal(err)
	}
	defer tlsUnix.Close() // its close_notify may find the peer gone
	tlsPeer, err := tsocket.TLSServerRecv(sreq)
	if err != nil {
		t.Fatal(err)
	}
	defer tlsPeer.Close()
	p := pipeFds(t)
	for _, tc := range []struct {
		name string
		s    *tsocket.Stream
	}{{"tcp", tcp}, {"tls over unix", tlsUnix}} {
		sreq := tsocket.SendFDsSend(ev, tc.s, [][]byte{[]byte("x")}, p[:1])
		poll(t, sreq)
		if _, err := tsocket.SendFDsRecv(sreq); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s: SendFDsRecv = %v, want EINVAL", tc.name, err)
		}
		rreq := tsocket.RecvFDsSend(ev, tc.s, make([]byte, 8), 1)
		poll(t, rreq)
		if _, _, err := tsocket.RecvFDsRecv(rreq); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("%s: RecvFDsRecv = %v, want EINVAL", tc.name, err)
		}
	}
	if _, err := tlsUnix.Detach(); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Detach of a TLS stream = %v, want EINVAL", err)
	}
	a, _ := unixPair(t, ev)
	rreq := tsocket.RecvFDsSend(ev, a, make([]byte, 8), -1)
	poll(t, rreq)
	if _, _, err := tsocket.RecvFDsRecv(rreq); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("maxFDs -1: RecvFDsRecv = %v, want EINVAL", err)
	}
	for _, iov := range [][][]byte{nil, {{}}} {
		sreq := tsocket.SendFDsSend(ev, a, iov, p[:1])
		poll(t, sreq)
		if _, err := tsocket.SendFDsRecv(sreq); !errors.Is(err, tsocket.ErrEmptyVector) {
			t.Errorf("SendFDsSend of %d empty buffers = %v, want ErrEmptyVector", len(iov), err)
		}
	}
	rreq = tsocket.RecvFDsSend(ev, a, nil, 1)
	poll(t, rreq)
	if _, _, err := tsocket.RecvFDsRecv(rreq); !errors.Is(err, tsocket.ErrEmptyVector) {
		t.Errorf("RecvFDsSend into no buffer = %v, want ErrEmptyVector", err)
	}
}

// fillSocket starts a writev on s too large for the socket buffers, which
// stays in flight until the peer reads.
func fillSocket(t *testing.T, ev *tevent.Context, s *tsocket.Stream) *tevent.Req[int] {
	t.Helper()
	req := tsocket.WritevSend(ev, s, [][]byte{make([]byte, 16<<20)})
	if !req.IsInProgress() {
		t.Fatal("a 16 MiB writev finished at once")
	}
	return req
}

// wantBusy checks that req failed with ErrBusy.
func wantBusy[T any](t *testing.T, what string, req *tevent.Req[T]) {
	t.Helper()
	poll(t, req)
	if _, err := req.Recv(); !errors.Is(err, tsocket.ErrBusy) {
		t.Errorf("%s: %v, want ErrBusy", what, err)
	}
}

// SendFDsSend is the stream's one write in flight, RecvFDsSend its one
// read; abandoned, each lets go of the stream, and descriptors a send
// abandoned before its first byte never go.
func TestFDPassingBusyAndAbandon(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		p := pipeFds(t)
		buf := make([]byte, 64<<10)

		// The read side.
		rreq := tsocket.RecvFDsSend(ev, b, buf, 1)
		wantBusy(t, "ReadSomeSend during RecvFDsSend", tsocket.ReadSomeSend(ev, b, buf))
		wantBusy(t, "RecvFDsSend during RecvFDsSend", tsocket.RecvFDsSend(ev, b, buf, 1))
		rreq.Abandon()
		some := tsocket.ReadSomeSend(ev, b, buf[:1])
		wantBusy(t, "RecvFDsSend during ReadSomeSend", tsocket.RecvFDsSend(ev, b, buf, 1))
		some.Abandon()

		// The write side.
		wreq := fillSocket(t, ev, a)
		wantBusy(t, "SendFDsSend during WritevSend", tsocket.SendFDsSend(ev, a, [][]byte{[]byte("x")}, p[:1]))
		wreq.Abandon()
		sreq := tsocket.SendFDsSend(ev, a, [][]byte{[]byte("F")}, p[:1])
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if !sreq.IsInProgress() {
			t.Fatal("SendFDsSend finished on a full socket")
		}
		wantBusy(t, "WritevSend during SendFDsSend", tsocket.WritevSend(ev, a, [][]byte{[]byte("x")}))
		sreq.Abandon()
		last := tsocket.WritevSend(ev, a, [][]byte{[]byte("Z")})

		// The peer drains the socket: what the abandoned writev wrote,
		// then Z, and no descriptor at all.
		for {
			n, fds := recvFDs(t, ev, b, buf, 4)
			if len(fds) != 0 {
				t.Fatalf("%d descriptors arrived from an abandoned SendFDsSend", len(fds))
			}
			if buf[n-1] == 'Z' {
				break
			}
		}
		poll(t, last)
		if _, err := tsocket.WritevRecv(last); err != nil {
			t.Fatal(err)
		}
	})
}

// A RecvFDsSend abandoned after it received descriptors, before
// RecvFDsRecv took them, closes them.
func TestRecvFDsAbandonedAfterDone(t *testing.T) {
	ev := newCtxOn(t, "poll")
	a, b := unixPair(t, ev)
	p := pipeFds(t)
	before := testutil.OpenFDs()
	sendFDs(t, ev, a, [][]byte{[]byte("x")}, p[:])
	req := tsocket.RecvFDsSend(ev, b, make([]byte, 8), 2)
	poll(t, req)
	if req.State() != tevent.StateDone {
		t.Fatalf("RecvFDsSend: %v", req.State())
	}
	if got := testutil.OpenFDs(); got != before+2 {
		t.Fatalf("%d descriptors open with 2 received, %d before", got, before)
	}
	req.Abandon()
	if got := testutil.OpenFDs(); got != before {
		t.Errorf("%d descriptors open after the abandon, %d before", got, before)
	}
}

// A peer that closed: RecvFDsSend reads io.EOF, bare, and SendFDsSend
// fails with EPIPE. A closed stream fails both with net.ErrClosed, and
// Close fails a receive in flight so too.
func TestFDPassingEnds(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		p := pipeFds(t)
		rreq := tsocket.RecvFDsSend(ev, a, make([]byte, 8), 1)
		closeT(t, b)
		poll(t, rreq)
		if _, _, err := tsocket.RecvFDsRecv(rreq); err != io.EOF {
			t.Errorf("RecvFDsRecv after the peer closed = %v, want io.EOF", err)
		}
		sreq := tsocket.SendFDsSend(ev, a, [][]byte{[]byte("x")}, p[:1])
		poll(t, sreq)
		if _, err := tsocket.SendFDsRecv(sreq); !errors.Is(err, syscall.EPIPE) {
			t.Errorf("SendFDsRecv to a closed peer = %v, want EPIPE", err)
		}

		c, _ := unixPair(t, ev)
		rreq = tsocket.RecvFDsSend(ev, c, make([]byte, 8), 1)
		closeT(t, c)
		poll(t, rreq)
		if _, _, err := tsocket.RecvFDsRecv(rreq); !errors.Is(err, net.ErrClosed) {
			t.Errorf("RecvFDsRecv failed by Close = %v, want net.ErrClosed", err)
		}
		for _, what := range []string{"send", "receive"} {
			var err error
			if what == "send" {
				req := tsocket.SendFDsSend(ev, c, [][]byte{[]byte("x")}, p[:1])
				poll(t, req)
				_, err = tsocket.SendFDsRecv(req)
			} else {
				req := tsocket.RecvFDsSend(ev, c, make([]byte, 8), 1)
				poll(t, req)
				_, _, err = tsocket.RecvFDsRecv(req)
			}
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s on a closed stream = %v, want net.ErrClosed", what, err)
			}
		}
	})
}

// Detach gives the descriptor up, open and still the same connection; the
// stream is closed without closing it. It refuses while anything is in
// flight or waits on the stream.
func TestDetach(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)

		rreq := tsocket.ReadSomeSend(ev, a, make([]byte, 8))
		if _, err := a.Detach(); !errors.Is(err, tsocket.ErrBusy) {
			t.Errorf("Detach with a read in flight = %v, want ErrBusy", err)
		}
		rreq.Abandon()
		we := a.AddWaitEvent(ev.Now().Add(time.Hour), func(*tsocket.Stream, *tsocket.WaitEvent, any) *tsocket.WaitEvent { return nil }, nil)
		if _, err := a.Detach(); !errors.Is(err, tsocket.ErrBusy) {
			t.Errorf("Detach with a wait event = %v, want ErrBusy", err)
		}
		a.RemoveWaitEvent(we)

		fd, err := a.Detach()
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Close(fd)
		if err := a.Close(); err != nil {
			t.Errorf("Close after Detach = %v, want nil (nothing to do)", err)
		}
		if _, err := a.Detach(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Detach again = %v, want net.ErrClosed", err)
		}
		wreq := tsocket.WritevSend(ev, a, [][]byte{[]byte("x")})
		poll(t, wreq)
		if _, err := tsocket.WritevRecv(wreq); !errors.Is(err, net.ErrClosed) {
			t.Errorf("WritevSend after Detach = %v, want net.ErrClosed", err)
		}
		if !isCloexec(t, fd) || !sys.Nonblocking(fd) {
			t.Error("the detached descriptor lost close-on-exec or O_NONBLOCK")
		}
		if _, err := unix.Write(fd, []byte("still here")); err != nil {
			t.Fatalf("write on the detached descriptor: %v", err)
		}
		buf := make([]byte, 10)
		if _, err := result(t, tsocket.ReadvSend(ev, b, [][]byte{buf})); err != nil || string(buf) != "still here" {
			t.Fatalf("peer read %q, %v", buf, err)
		}
	})
}

// A Server forgets a stream its handler detached, as one closed.
func TestDetachFromServer(t *testing.T) {
	ev := newCtxOn(t, "poll")
	l, err := tsocket.Listen(ev, loopback4(t))
	if err != nil {
		t.Fatal(err)
	}
	detached := -1
	srv := tsocket.Serve(ev, l, func(s *tsocket.Stream) {
		fd, err := s.Detach()
		if err != nil {
			t.Errorf("Detach: %v", err)
		}
		detached = fd
	})
	defer srv.Close()
	cli := must(t, tsocket.ConnectSend(ev, nil, l.Addr()))
	defer closeT(t, cli)
	if err := ev.LoopUntil(func() bool { return detached >= 0 }); err != nil {
		t.Fatal(err)
	}
	defer sys.Close(detached)
	if n := srv.Conns(); n != 0 {
		t.Errorf("Conns = %d after the handler detached its stream, want 0", n)
	}
}

// The hand-over of an IMAP connection to another process, as Dovecot's
// imap-hibernate takes it (here both sides are streams on one loop): the
// server has read a command with a Reader, which holds the client's next
// line already; it takes those bytes out of the Reader, detaches the
// connection and sends the descriptor with its state and those bytes over
// a unix stream. The receiving side rebuilds a Stream from the descriptor
// and goes on with the protocol where the first left off, the carried
// bytes first.
func TestDetachHandOver(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		client, conn := tcpPair(t, ev)
		imapCtl, hibernateCtl := unixPair(t, ev)

		writeAll(t, ev, client, []byte("a1 IDLE\r\nDONE\r\n"))
		r := tsocket.NewReader(ev, conn, 1024)
		lreq := tsocket.ReadUntilSend(ev, r, []byte("\r\n"))
		poll(t, lreq)
		if line, err := tsocket.ReadUntilRecv(lreq); err != nil || string(line) != "a1 IDLE\r\n" {
			t.Fatalf("command %q, %v", line, err)
		}
		if r.Buffered() != len("DONE\r\n") {
			t.Fatalf("the Reader holds %d bytes; the test wants the whole next line", r.Buffered())
		}
		rest := make([]byte, r.Buffered())
		freq := tsocket.ReadFullSend(ev, r, rest)
		if conn.HasEvent() {
			t.Error("ReadFullSend of what the Reader holds waits for the socket")
		}
		poll(t, freq)
		if _, err := tsocket.ReadFullRecv(freq); err != nil {
			t.Fatal(err)
		}
		fd, err := conn.Detach()
		if err != nil {
			t.Fatal(err)
		}
		state := []byte("IDLE a1\n")
		sendFDs(t, ev, imapCtl, [][]byte{state, rest}, []int{fd})
		if err := sys.Close(fd); err != nil { // handed over, not shared
			t.Fatal(err)
		}

		// The hibernating side.
		buf := make([]byte, 512)
		n, fds := recvFDs(t, ev, hibernateCtl, buf, 1)
		if len(fds) != 1 || !bytes.HasPrefix(buf[:n], state) {
			t.Fatalf("received %q with %v", buf[:n], fds)
		}
		carried := buf[len(state):n]
		s, err := tsocket.ExistingSocket(ev, fds[0])
		if err != nil {
			t.Fatal(err)
		}
		fds[0] = -1 // s owns it now; closeFdsAtCleanup must not close it
		defer closeT(t, s)
		if s.RemoteAddress().String() != client.LocalAddress().String() {
			t.Errorf("rebuilt stream's peer %v, want the client %v", s.RemoteAddress(), client.LocalAddress())
		}
		if string(carried) != "DONE\r\n" {
			t.Fatalf("carried bytes %q", carried)
		}
		writeAll(t, ev, s, []byte("a1 OK Idle completed\r\n"))
		reply := make([]byte, len("a1 OK Idle completed\r\n"))
		if _, err := result(t, tsocket.ReadvSend(ev, client, [][]byte{reply})); err != nil || string(reply) != "a1 OK Idle completed\r\n" {
			t.Fatalf("client read %q, %v", reply, err)
		}
		writeAll(t, ev, client, []byte("a2 NOOP\r\n"))
		r2 := tsocket.NewReader(ev, s, 1024)
		lreq = tsocket.ReadUntilSend(ev, r2, []byte("\r\n"))
		poll(t, lreq)
		if line, err := tsocket.ReadUntilRecv(lreq); err != nil || string(line) != "a2 NOOP\r\n" {
			t.Fatalf("next command on the rebuilt stream %q, %v", line, err)
		}
	})
}
