package tsocket_test

import (
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tevent/teventtest"
	"github.com/gotevent/gotevent/tsocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(m))
}

// backends runs fn once per backend, newCtxOn makes a context on one
// (package teventtest).
var (
	backends = teventtest.Backends
	newCtxOn = teventtest.NewContext
)

// poll runs the loop until req has finished.
func poll[T any](t testing.TB, req *tevent.Req[T]) {
	t.Helper()
	if err := req.Poll(); err != nil {
		t.Fatalf("Poll: %v", err)
	}
}

// result polls req and returns its result.
func result[T any](t testing.TB, req *tevent.Req[T]) (T, error) {
	t.Helper()
	poll(t, req)
	return req.Recv()
}

// must polls req and returns its value, failing the test on an error.
func must[T any](t testing.TB, req *tevent.Req[T]) T {
	t.Helper()
	v, err := result(t, req)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// writeAll writes iov to s and waits until it is written.
func writeAll(t testing.TB, ev *tevent.Context, s *tsocket.Stream, iov ...[]byte) {
	t.Helper()
	req := tsocket.WritevSend(ev, s, iov)
	poll(t, req)
	if _, err := tsocket.WritevRecv(req); err != nil {
		t.Fatalf("writev: %v", err)
	}
}

func mustAddr(t testing.TB, a tsocket.Address, err error) tsocket.Address {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func loopback4(t testing.TB) tsocket.Address {
	a, err := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	return mustAddr(t, a, err)
}

func closeT(t testing.TB, c interface{ Close() error }) {
	t.Helper()
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// tcpPair returns two connected TCP streams on ev.
func tcpPair(t testing.TB, ev *tevent.Context) (*tsocket.Stream, *tsocket.Stream) {
	t.Helper()
	l, err := tsocket.Listen(ev, loopback4(t))
	if err != nil {
		t.Fatal(err)
	}
	defer closeT(t, l)
	areq := tsocket.AcceptSend(ev, l)
	creq := tsocket.ConnectSend(ev, nil, l.Addr())
	poll(t, areq)
	poll(t, creq)
	srv, err := tsocket.AcceptRecv(areq)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := tsocket.ConnectRecv(creq)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); cli.Close() })
	return cli, srv
}

// unixPair returns two connected unix streams on ev, closed at cleanup
// (closing one again is harmless).
func unixPair(t testing.TB, ev *tevent.Context) (*tsocket.Stream, *tsocket.Stream) {
	t.Helper()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// pairs runs fn over a socketpair and a TCP pair.
func pairs(t *testing.T, ev func() *tevent.Context, fn func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream)) {
	t.Run("socketpair", func(t *testing.T) {
		e := ev()
		a, b := unixPair(t, e)
		fn(t, e, a, b)
	})
	t.Run("tcp", func(t *testing.T) {
		e := ev()
		a, b := tcpPair(t, e)
		fn(t, e, a, b)
	})
}
