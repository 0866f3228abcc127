package rawio_test

import (
	"errors"
	"testing"

	"github.com/gotevent/gotevent/internal/rawio"
	"github.com/gotevent/gotevent/internal/testutil"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(m))
}

func iovec(b []byte) unix.Iovec {
	v := unix.Iovec{Base: &b[0]}
	v.SetLen(len(b))
	return v
}

func TestReadWriteSend(t *testing.T) {
	a, b := testutil.Socketpair(t)
	buf := make([]byte, 16)
	if _, err := rawio.Read(b, buf); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("Read of an empty non-blocking socket: %v, want EAGAIN", err)
	}
	if n, err := rawio.Write(a, []byte("write")); n != 5 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if n, err := rawio.Send(a, []byte("send"), unix.MSG_NOSIGNAL); n != 4 || err != nil {
		t.Fatalf("Send = %d, %v", n, err)
	}
	if n, err := rawio.Read(b, buf); string(buf[:n]) != "writesend" || err != nil {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	// Vectors: two buffers each way.
	h, body := []byte("head:"), []byte("body")
	if n, err := rawio.Sendmsg(a, []unix.Iovec{iovec(h), iovec(body)}, unix.MSG_NOSIGNAL); n != 9 || err != nil {
		t.Fatalf("Sendmsg = %d, %v", n, err)
	}
	x, y := make([]byte, 5), make([]byte, 8)
	if n, err := rawio.Readv(b, []unix.Iovec{iovec(x), iovec(y)}); n != 9 || err != nil || string(x)+string(y[:4]) != "head:body" {
		t.Fatalf("Readv = %d, %v: %q %q", n, err, x, y)
	}
	// A closed peer: EOF on read, EPIPE (not SIGPIPE) on send.
	unix.Close(a)
	if n, err := rawio.Read(b, buf); n != 0 || err != nil {
		t.Fatalf("Read after the peer closed = %d, %v; want 0, nil (EOF)", n, err)
	}
	if _, err := rawio.Send(b, []byte("x"), unix.MSG_NOSIGNAL); !errors.Is(err, unix.EPIPE) {
		t.Fatalf("Send to a closed peer: %v, want EPIPE", err)
	}
	if _, err := rawio.Read(-1, buf); !errors.Is(err, unix.EBADF) {
		t.Fatalf("Read(-1): %v, want EBADF", err)
	}
}

func TestNonblocking(t *testing.T) {
	a, _ := testutil.Socketpair(t)
	if !rawio.Nonblocking(a) {
		t.Fatal("a SOCK_NONBLOCK socket is not reported non-blocking")
	}
	if err := unix.SetNonblock(a, false); err != nil {
		t.Fatal(err)
	}
	if rawio.Nonblocking(a) {
		t.Fatal("a blocking socket is reported non-blocking")
	}
	if rawio.Nonblocking(-1) {
		t.Fatal("a bad descriptor is reported non-blocking")
	}
}
