package tsocket_test

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

func getInt(t *testing.T, s *tsocket.Stream, level, opt int) int {
	t.Helper()
	v, err := unix.GetsockoptInt(s.Fd(), level, opt)
	if err != nil {
		t.Fatalf("getsockopt(%d, %d): %v", level, opt, err)
	}
	return v
}

func TestSocketOptions(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, _ := tcpPair(t, ev)
		if getInt(t, a, unix.IPPROTO_TCP, unix.TCP_NODELAY) == 0 {
			t.Error("a connected TCP stream has Nagle on; want TCP_NODELAY by default")
		}
		if err := a.SetNoDelay(false); err != nil || getInt(t, a, unix.IPPROTO_TCP, unix.TCP_NODELAY) != 0 {
			t.Errorf("SetNoDelay(false) = %v", err)
		}
		if err := a.SetKeepAlive(true, 90*time.Second+time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if getInt(t, a, unix.SOL_SOCKET, unix.SO_KEEPALIVE) == 0 ||
			getInt(t, a, unix.IPPROTO_TCP, tsocket.TCPKeepIdle) != 91 ||
			getInt(t, a, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL) != 91 {
			t.Error("SetKeepAlive(true, 90.001s) did not set SO_KEEPALIVE and 91 s idle and interval")
		}
		if err := a.SetKeepAlive(false, 0); err != nil || getInt(t, a, unix.SOL_SOCKET, unix.SO_KEEPALIVE) != 0 {
			t.Errorf("SetKeepAlive(false) = %v", err)
		}
		if err := a.SetReadBuffer(64 << 10); err != nil || getInt(t, a, unix.SOL_SOCKET, unix.SO_RCVBUF) < 64<<10 {
			t.Errorf("SetReadBuffer = %v", err)
		}
		if err := a.SetWriteBuffer(64 << 10); err != nil || getInt(t, a, unix.SOL_SOCKET, unix.SO_SNDBUF) < 64<<10 {
			t.Errorf("SetWriteBuffer = %v", err)
		}
		if err := a.SetLinger(5); err != nil {
			t.Fatal(err)
		}
		l, err := unix.GetsockoptLinger(a.Fd(), unix.SOL_SOCKET, unix.SO_LINGER)
		if err != nil || l.Onoff == 0 || l.Linger != 5 {
			t.Errorf("SetLinger(5): %+v, %v", l, err)
		}
		if err := a.SetLinger(-1); err != nil {
			t.Fatal(err)
		}
		if l, _ := unix.GetsockoptLinger(a.Fd(), unix.SOL_SOCKET, unix.SO_LINGER); l.Onoff != 0 {
			t.Errorf("SetLinger(-1) left linger on: %+v", l)
		}
	})
}

// SetLinger(0) is how a server drops a client so that it learns at once:
// the close resets the connection.
func TestSetLingerZeroResets(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := tcpPair(t, ev)
		if err := b.SetLinger(0); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		req := tsocket.ReadSomeSend(ev, a, make([]byte, 8))
		poll(t, req)
		if _, err := tsocket.ReadSomeRecv(req); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("read after the peer closed with linger 0: %v, want ECONNRESET", err)
		}
	})
}

func TestSocketOptionErrors(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, _ := unixPair(t, ev)
		var op *tsocket.OpError
		if err := a.SetNoDelay(true); !errors.As(err, &op) || op.Op != "setsockopt" {
			t.Errorf("SetNoDelay on a unix stream = %v, want an *OpError for setsockopt", err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"SetNoDelay":     a.SetNoDelay(true),
			"SetKeepAlive":   a.SetKeepAlive(true, time.Minute),
			"SetLinger":      a.SetLinger(0),
			"SetReadBuffer":  a.SetReadBuffer(1 << 16),
			"SetWriteBuffer": a.SetWriteBuffer(1 << 16),
		} {
			if !errors.Is(err, net.ErrClosed) || !errors.As(err, &op) {
				t.Errorf("%s on a closed stream = %v, want an *OpError wrapping net.ErrClosed", name, err)
			}
		}
	})
}
