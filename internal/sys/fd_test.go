package sys_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"golang.org/x/sys/unix"
)

// checkNew fails t unless fd is non-blocking and close-on-exec, and
// closes it at cleanup.
func checkNew(t *testing.T, what string, fd int) {
	t.Helper()
	t.Cleanup(func() { sys.Close(fd) })
	if !sys.Nonblocking(fd) {
		t.Errorf("%s: fd %d is blocking", what, fd)
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	if err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("%s: fd %d is not close-on-exec (F_GETFD %#x, %v)", what, fd, fl, err)
	}
}

// Every descriptor the package makes is non-blocking and close-on-exec
// from the start, whichever way the platform gets there.
func TestNewDescriptors(t *testing.T) {
	testutil.NoFDLeak(t)
	l, err := sys.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkNew(t, "Socket", l)
	if err := sys.Bind(l, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := sys.Listen(l, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sys.Accept(l); !sys.WouldBlock(err) {
		t.Fatalf("Accept with nothing queued: %v, want EAGAIN", err)
	}
	sa, err := sys.Getsockname(l)
	if err != nil {
		t.Fatal(err)
	}
	c, err := sys.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkNew(t, "Socket", c)
	if err := sys.Connect(c, sa); err != nil && err != unix.EINPROGRESS {
		t.Fatalf("Connect: %v", err)
	}
	// Loopback connects complete in the kernel; the accept queue has it
	// once the connecting side is writable.
	pfd := []unix.PollFd{{Fd: int32(c), Events: unix.POLLOUT}}
	if _, err := sys.Poll(pfd, 5000); err != nil {
		t.Fatal(err)
	}
	if err := sys.SocketError(c); err != nil {
		t.Fatalf("SocketError after connecting: %v", err)
	}
	pfd = []unix.PollFd{{Fd: int32(l), Events: unix.POLLIN}}
	if _, err := sys.Poll(pfd, 5000); err != nil {
		t.Fatal(err)
	}
	s, peer, err := sys.Accept(l)
	if err != nil {
		t.Fatal(err)
	}
	checkNew(t, "Accept", s)
	if peer == nil {
		t.Error("Accept returned no peer address")
	}
	if typ, err := sys.SocketType(s); typ != unix.SOCK_STREAM || err != nil {
		t.Errorf("SocketType = %d, %v; want SOCK_STREAM", typ, err)
	}
	if err := sys.SetNoDelay(s); err != nil {
		t.Errorf("SetNoDelay: %v", err)
	}

	pair, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkNew(t, "Socketpair", pair[0])
	checkNew(t, "Socketpair", pair[1])
	p, err := sys.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	checkNew(t, "Pipe", p[0])
	checkNew(t, "Pipe", p[1])
	if n, err := sys.Write(p[1], []byte("x")); n != 1 || err != nil {
		t.Fatalf("Write to the pipe: %d, %v", n, err)
	}
	// Dup2 puts a close-on-exec duplicate at a chosen number.
	if err := sys.Dup2(pair[0], p[1]); err != nil {
		t.Fatal(err)
	}
	checkNew(t, "Dup2", p[1])
	if typ, err := sys.SocketType(p[1]); typ != unix.SOCK_STREAM || err != nil {
		t.Errorf("Dup2 onto the pipe's write end: SocketType = %d, %v; want the socket", typ, err)
	}
}

func TestCheckOpen(t *testing.T) {
	a, b := testutil.Socketpair(t)
	if err := sys.CheckOpen(a); err != nil {
		t.Fatalf("CheckOpen of an open fd: %v", err)
	}
	sys.Close(b)
	if err := sys.CheckOpen(b); !errors.Is(err, unix.EBADF) {
		t.Fatalf("CheckOpen of a closed fd: %v, want EBADF", err)
	}
	// A number that only truncates to an open one is not open, and nor is
	// a negative one.
	bad := []int{-1}
	if strconv.IntSize == 64 {
		bad = append(bad, int(uint64(a)+1<<32))
	}
	for _, fd := range bad {
		if err := sys.CheckOpen(fd); !errors.Is(err, unix.EBADF) {
			t.Errorf("CheckOpen(%d): %v, want EBADF", fd, err)
		}
	}
}

func TestPendingBytes(t *testing.T) {
	a, b := testutil.Socketpair(t)
	if _, err := sys.Write(a, []byte("12345")); err != nil {
		t.Fatal(err)
	}
	n, err := sys.PendingBytes(b)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("PendingBytes: %v on this system", err)
	}
	if n != 5 || err != nil {
		t.Fatalf("PendingBytes = %d, %v; want 5", n, err)
	}
	if _, err := sys.PendingBytes(-1); !errors.Is(err, unix.EBADF) {
		t.Fatalf("PendingBytes(-1): %v, want EBADF (a bare errno)", err)
	}
}

func TestSendtoRecvfrom(t *testing.T) {
	pair, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close(pair[0])
	defer sys.Close(pair[1])
	if err := sys.Sendto(pair[0], []byte("datagram"), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := sys.PendingBytes(pair[1]); err == nil && n != 8 {
		t.Errorf("PendingBytes of a datagram socket = %d, want the datagram's 8", n)
	}
	buf := make([]byte, 16)
	n, _, err := sys.Recvfrom(pair[1], buf)
	if string(buf[:n]) != "datagram" || err != nil {
		t.Fatalf("Recvfrom = %q, %v", buf[:n], err)
	}
	if _, _, err := sys.Recvfrom(pair[1], buf); !sys.WouldBlock(err) {
		t.Fatalf("Recvfrom with nothing queued: %v, want EAGAIN", err)
	}
}
