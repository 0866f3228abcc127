package sys_test

import (
	"errors"
	"testing"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"golang.org/x/sys/unix"
)

func iovec(b []byte) unix.Iovec {
	v := unix.Iovec{Base: &b[0]}
	v.SetLen(len(b))
	return v
}

func TestReadWriteSend(t *testing.T) {
	a, b := testutil.Socketpair(t)
	buf := make([]byte, 16)
	if _, err := sys.Read(b, buf); !sys.WouldBlock(err) {
		t.Fatalf("Read of an empty non-blocking socket: %v, want EAGAIN", err)
	}
	// Each writer, raw or through the scheduler, writes its own letter;
	// each reader then finds them all.
	writers := []struct {
		name  string
		write func(int, []byte) (int, error)
	}{{"Write", sys.Write}, {"Send", sys.Send}, {"WriteBlocking", sys.WriteBlocking}, {"SendBlocking", sys.SendBlocking}}
	for _, read := range []func(int, []byte) (int, error){sys.Read, sys.ReadBlocking} {
		for _, w := range writers {
			if n, err := w.write(a, []byte(w.name[:1])); n != 1 || err != nil {
				t.Fatalf("%s = %d, %v", w.name, n, err)
			}
		}
		if n, err := read(b, buf); string(buf[:n]) != "WSWS" || err != nil {
			t.Fatalf("Read = %q, %v; want WSWS", buf[:n], err)
		}
	}
	// Vectors: two buffers each way.
	h, body := []byte("head:"), []byte("body")
	if n, err := sys.Sendmsg(a, []unix.Iovec{iovec(h), iovec(body)}); n != 9 || err != nil {
		t.Fatalf("Sendmsg = %d, %v", n, err)
	}
	x, y := make([]byte, 5), make([]byte, 8)
	if n, err := sys.Readv(b, []unix.Iovec{iovec(x), iovec(y)}); n != 9 || err != nil || string(x)+string(y[:4]) != "head:body" {
		t.Fatalf("Readv = %d, %v: %q %q", n, err, x, y)
	}
	// A closed peer: EOF on read, EPIPE (not SIGPIPE) on send.
	unix.Close(a)
	if n, err := sys.Read(b, buf); n != 0 || err != nil {
		t.Fatalf("Read after the peer closed = %d, %v; want 0, nil (EOF)", n, err)
	}
	if _, err := sys.Send(b, []byte("x")); !errors.Is(err, unix.EPIPE) {
		t.Fatalf("Send to a closed peer: %v, want EPIPE", err)
	}
	if _, err := sys.Sendmsg(b, []unix.Iovec{iovec(h)}); !errors.Is(err, unix.EPIPE) {
		t.Fatalf("Sendmsg to a closed peer: %v, want EPIPE", err)
	}
	if _, err := sys.Read(-1, buf); !errors.Is(err, unix.EBADF) {
		t.Fatalf("Read(-1): %v, want EBADF", err)
	}
}

func TestRetryRules(t *testing.T) {
	for _, c := range []struct {
		err                     error
		interrupted, wouldBlock bool
	}{
		{nil, false, false},
		{unix.EINTR, true, false},
		{unix.EAGAIN, false, true},
		{unix.EWOULDBLOCK, false, true},
		{unix.ECONNRESET, false, false},
	} {
		if got := sys.Interrupted(c.err); got != c.interrupted {
			t.Errorf("Interrupted(%v) = %v", c.err, got)
		}
		if got := sys.WouldBlock(c.err); got != c.wouldBlock {
			t.Errorf("WouldBlock(%v) = %v", c.err, got)
		}
	}
}

func TestNonblocking(t *testing.T) {
	a, _ := testutil.Socketpair(t)
	if !sys.Nonblocking(a) {
		t.Fatal("a socket from Socketpair is not reported non-blocking")
	}
	if err := unix.SetNonblock(a, false); err != nil {
		t.Fatal(err)
	}
	if sys.Nonblocking(a) {
		t.Fatal("a blocking socket is reported non-blocking")
	}
	if err := sys.SetNonblock(a); err != nil || !sys.Nonblocking(a) {
		t.Fatalf("SetNonblock: %v; non-blocking now: %v", err, sys.Nonblocking(a))
	}
	if sys.Nonblocking(-1) {
		t.Fatal("a bad descriptor is reported non-blocking")
	}
}
