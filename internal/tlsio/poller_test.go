package tlsio

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"testing"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"golang.org/x/sys/unix"
)

// socketpair returns the non-blocking end a shim runs on and a net.Conn
// on the other end, both closed at cleanup.
func socketpair(t *testing.T) (int, net.Conn) {
	t.Helper()
	fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[1]), "peer")
	peer, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close(); unix.Close(fds[0]) })
	return fds[0], peer
}

// pollerShim is a shim on fd with UsePoller, whose kick fails the test:
// the handshake must never cross to the loop.
func pollerShim(t *testing.T, fd int) *Shim {
	t.Helper()
	sh := NewShim(fd, nil, nil, func() { t.Error("the handshake crossed to the loop") })
	if err := sh.UsePoller(); err != nil {
		t.Fatal(err)
	}
	return sh
}

// With UsePoller the handshake needs no loop at all: the shim's kick is
// never called, the duplicate is gone once ReleasePoller has run, and the
// records that follow go through the descriptor itself.
func TestShimPollerHandshake(t *testing.T) {
	cfg := testutil.TLS(t)
	fd, peer := socketpair(t)
	sh := pollerShim(t, fd)
	srv := tls.Server(sh, cfg.Server)
	cli := tls.Client(peer, cfg.Client)
	done := make(chan error, 1)
	go func() {
		err := srv.Handshake()
		sh.ReleasePoller()
		done <- err
	}()
	if err := cli.Handshake(); err != nil {
		t.Fatalf("client: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
	if _, err := sh.f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("duplicate after ReleasePoller: %v, want closed", err)
	}
	sh.Direct()
	if _, err := cli.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := srv.Read(buf)
	for errors.Is(err, ErrWouldBlock) {
		n, err = srv.Read(buf)
	}
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("Read after the handshake = %q, %v", buf[:n], err)
	}
}

// Abort wakes a handshake waiting in the poller for a silent peer, and
// it fails with the cause given.
func TestShimPollerAbort(t *testing.T) {
	cfg := testutil.TLS(t)
	fd, _ := socketpair(t)
	sh := pollerShim(t, fd)
	done := make(chan error, 1)
	go func() {
		err := tls.Server(sh, cfg.Server).Handshake()
		sh.ReleasePoller()
		done <- err
	}()
	sh.Abort(ErrAborted)
	if err := <-done; !errors.Is(err, ErrAborted) {
		t.Fatalf("aborted handshake: %v, want ErrAborted", err)
	}
}
