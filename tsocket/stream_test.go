package tsocket_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

func TestReadvWritev(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			wreq := tsocket.WritevSend(ev, a, [][]byte{[]byte("hello, "), nil, []byte("world")})
			buf1, buf2 := make([]byte, 3), make([]byte, 9)
			rreq := tsocket.ReadvSend(ev, b, [][]byte{buf1, {}, buf2})
			poll(t, wreq)
			poll(t, rreq)
			if n, err := tsocket.WritevRecv(wreq); n != 12 || err != nil {
				t.Fatalf("WritevRecv = %d, %v", n, err)
			}
			if n, err := tsocket.ReadvRecv(rreq); n != 12 || err != nil {
				t.Fatalf("ReadvRecv = %d, %v", n, err)
			}
			if diff := cmp.Diff("hello, world", string(buf1)+string(buf2)); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if a.HasEvent() || b.HasEvent() {
				t.Errorf("idle streams hold events")
			}
			// Only idle sockets remain: LoopWait returns.
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func TestReadvBusyEmptyEOF(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		buf := make([]byte, 4)
		r1 := tsocket.ReadvSend(ev, b, [][]byte{buf})
		if _, err := result(t, tsocket.ReadvSend(ev, b, [][]byte{buf})); !errors.Is(err, syscall.EBUSY) || !errors.Is(err, tsocket.ErrBusy) {
			t.Errorf("second readv: %v, want EBUSY", err)
		}
		r3 := tsocket.ReadvSend(ev, a, nil)
		poll(t, r3)
		if _, err := tsocket.ReadvRecv(r3); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("empty readv: %v, want EINVAL", err)
		}
		w := tsocket.WritevSend(ev, a, [][]byte{[]byte("ab")})
		poll(t, w)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		poll(t, r1)
		if _, err := tsocket.ReadvRecv(r1); err != io.ErrUnexpectedEOF {
			t.Errorf("readv after half a vector: %v, want io.ErrUnexpectedEOF", err)
		}
		if _, err := result(t, tsocket.ReadvSend(ev, b, [][]byte{buf})); err != io.EOF {
			t.Errorf("readv at EOF: %v, want io.EOF", err)
		}
		d := tsocket.DisconnectSend(ev, b)
		poll(t, d)
		if err := tsocket.DisconnectRecv(d); err != nil {
			t.Fatalf("disconnect: %v", err)
		}
		if _, err := result(t, tsocket.ReadvSend(ev, b, [][]byte{buf})); !errors.Is(err, net.ErrClosed) {
			t.Errorf("readv after disconnect: %v, want net.ErrClosed", err)
		}
	})
}

func TestPendingBytesAndAddresses(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := tcpPair(t, ev)
		poll(t, tsocket.WritevSend(ev, a, [][]byte{bytes.Repeat([]byte{'x'}, 100)}))
		var n int
		for n < 100 { // the bytes cross loopback asynchronously
			var err error
			if n, err = b.PendingBytes(); err != nil {
				t.Fatal(err)
			}
		}
		if n != 100 {
			t.Errorf("PendingBytes = %d, want 100", n)
		}
		if got, want := a.RemoteAddress().String(), b.LocalAddress().String(); got != want {
			t.Errorf("a.RemoteAddress = %s, b.LocalAddress = %s", got, want)
		}
		if got, want := b.RemoteAddress().String(), a.LocalAddress().String(); got != want {
			t.Errorf("b.RemoteAddress = %s, a.LocalAddress = %s", got, want)
		}
	})
}

// A unix connect succeeds inside ConnectSend; the callback, set after it
// returns, must still run (on a later iteration) and get the stream.
func TestConnectUnixImmediateCallsBack(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		path := filepath.Join(t.TempDir(), "s")
		addr, err := tsocket.UnixAddress(path)
		if err != nil {
			t.Fatal(err)
		}
		l, err := tsocket.Listen(ev, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		req := tsocket.ConnectSend(ev, nil, addr)
		var got *tsocket.Stream
		req.SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
			s, err := tsocket.ConnectRecv(req)
			if err != nil {
				t.Errorf("ConnectRecv: %v", err)
				return
			}
			got = s
		})
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if got == nil {
			t.Fatal("the callback of an immediately connected stream never ran")
		}
		got.Close()
	})
}
