package tsocket_test

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// acceptConnect connects a stream to l with opts and accepts it; both are
// closed at cleanup.
func acceptConnect(t *testing.T, ev *tevent.Context, l *tsocket.Listener, opts ...tsocket.ConnectOption) (srv, cli *tsocket.Stream) {
	t.Helper()
	areq := tsocket.AcceptSend(ev, l)
	creq := tsocket.ConnectSend(ev, nil, l.Addr(), opts...)
	poll(t, areq)
	poll(t, creq)
	srv, err := tsocket.AcceptRecv(areq)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cli, err = tsocket.ConnectRecv(creq)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return srv, cli
}

// Buffer sizes asked for before listen and connect are what the streams
// have: at least the size asked (Linux doubles it). The sizes are above
// Linux's defaults for TCP (128 KiB to receive, 16 KiB to send), so that
// a default would not pass for them.
func TestListenConnectBuffers(t *testing.T) {
	const rcv, snd = 300 << 10, 400 << 10
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		unixAddr := func(t testing.TB) tsocket.Address {
			a, err := tsocket.UnixAddress(filepath.Join(t.TempDir(), "s"))
			return mustAddr(t, a, err)
		}
		for _, tc := range []struct {
			name string
			addr func(t testing.TB) tsocket.Address
		}{{"tcp", loopback4}, {"unix", unixAddr}} {
			t.Run(tc.name, func(t *testing.T) {
				ev := newCtx()
				l, err := tsocket.Listen(ev, tc.addr(t), tsocket.ListenBuffers(rcv, snd))
				if err != nil {
					t.Fatal(err)
				}
				defer closeT(t, l)
				srv, cli := acceptConnect(t, ev, l, tsocket.ConnectBuffers(rcv, snd))
				for _, s := range []struct {
					side string
					s    *tsocket.Stream
				}{{"accepted", srv}, {"connected", cli}} {
					if got := getInt(t, s.s, unix.SOL_SOCKET, unix.SO_RCVBUF); got < rcv {
						t.Errorf("%s stream: SO_RCVBUF %d, want at least %d", s.side, got, rcv)
					}
					if got := getInt(t, s.s, unix.SOL_SOCKET, unix.SO_SNDBUF); got < snd {
						t.Errorf("%s stream: SO_SNDBUF %d, want at least %d", s.side, got, snd)
					}
				}
			})
		}
	})
}

// 0 leaves the system's default: the sizes are those of a stream made
// without the option.
func TestBuffersZeroKeepsDefault(t *testing.T) {
	ev := newCtxOn(t, "poll")
	plain, _ := tcpPair(t, ev)
	l, err := tsocket.Listen(ev, loopback4(t), tsocket.ListenBuffers(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	defer closeT(t, l)
	srv, cli := acceptConnect(t, ev, l, tsocket.ConnectBuffers(0, 0))
	for _, opt := range []int{unix.SO_RCVBUF, unix.SO_SNDBUF} {
		want := getInt(t, plain, unix.SOL_SOCKET, opt)
		for _, s := range []*tsocket.Stream{srv, cli} {
			if got := getInt(t, s, unix.SOL_SOCKET, opt); got != want {
				t.Errorf("option %d: %d with size 0, %d without the option", opt, got, want)
			}
		}
	}
}

// A size below 0 fails Listen and the connect with EINVAL, in an *OpError
// of their own Op, leaking no socket.
func TestBuffersNegative(t *testing.T) {
	ev := newCtxOn(t, "poll")
	_, err := tsocket.Listen(ev, loopback4(t), tsocket.ListenBuffers(-1, 0))
	var oe *tsocket.OpError
	if !errors.Is(err, syscall.EINVAL) || !errors.As(err, &oe) || oe.Op != "listen" {
		t.Errorf("Listen with SO_RCVBUF -1 = %v; want an *OpError listen, EINVAL", err)
	}
	l, err := tsocket.Listen(ev, loopback4(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeT(t, l)
	creq := tsocket.ConnectSend(ev, nil, l.Addr(), tsocket.ConnectBuffers(0, -1))
	poll(t, creq)
	if _, err := tsocket.ConnectRecv(creq); !errors.Is(err, syscall.EINVAL) || !errors.As(err, &oe) || oe.Op != "connect" {
		t.Errorf("connect with SO_SNDBUF -1 = %v; want an *OpError connect, EINVAL", err)
	}
}
