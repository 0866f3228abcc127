package tsocket_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// readToEOF reads s until io.EOF and returns what it read.
func readToEOF(t *testing.T, ev *tevent.Context, s *tsocket.Stream) []byte {
	t.Helper()
	var all []byte
	buf := make([]byte, 64<<10)
	for {
		req := tsocket.ReadSomeSend(ev, s, buf)
		poll(t, req)
		n, err := tsocket.ReadSomeRecv(req)
		if err == io.EOF {
			return all
		}
		if err != nil {
			t.Fatalf("read after %d bytes: %v", len(all), err)
		}
		all = append(all, buf[:n]...)
	}
}

// The shutdown waits for the writev in flight: the peer reads every byte
// of it, then EOF; the writev's callback runs before the close-write's;
// a second close-write meanwhile is ErrBusy. The stream still reads what
// the peer sends, and a write fails with EPIPE, as after
// net.TCPConn.CloseWrite.
func TestCloseWrite(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			const size = 8 << 20
			var order []string
			wreq := tsocket.WritevSend(ev, a, [][]byte{make([]byte, size)})
			if !wreq.IsInProgress() {
				t.Fatal("an 8 MiB writev finished at once")
			}
			wreq.SetCallback(func(*tevent.Req[int]) { order = append(order, "writev") })
			cw := tsocket.CloseWriteSend(ev, a)
			cw.SetCallback(func(*tevent.Req[struct{}]) { order = append(order, "close-write") })
			wantBusy(t, "a second CloseWriteSend", tsocket.CloseWriteSend(ev, a))

			if got := readToEOF(t, ev, b); len(got) != size {
				t.Fatalf("peer read %d bytes before EOF, want %d", len(got), size)
			}
			poll(t, cw)
			if err := tsocket.CloseWriteRecv(cw); err != nil {
				t.Fatalf("CloseWriteRecv: %v", err)
			}
			if n, err := tsocket.WritevRecv(wreq); n != size || err != nil {
				t.Fatalf("WritevRecv = %d, %v", n, err)
			}
			if fmt.Sprint(order) != "[writev close-write]" {
				t.Errorf("callbacks ran in the order %v, want the writev's first", order)
			}

			writeAll(t, ev, b, []byte("still listening"))
			buf := make([]byte, len("still listening"))
			if _, err := result(t, tsocket.ReadvSend(ev, a, [][]byte{buf})); err != nil || string(buf) != "still listening" {
				t.Fatalf("read after the half-close: %q, %v", buf, err)
			}
			w := tsocket.WritevSend(ev, a, [][]byte{[]byte("x")})
			poll(t, w)
			if _, err := tsocket.WritevRecv(w); !errors.Is(err, syscall.EPIPE) {
				t.Errorf("writev after CloseWrite = %v, want EPIPE", err)
			}
		})
	})
}

// With nothing in flight the shutdown is made at once and the request
// finishes through Post, its callback on a later iteration.
func TestCloseWriteIdle(t *testing.T) {
	ev := newCtxOn(t, "poll")
	a, b := tcpPair(t, ev)
	called := false
	cw := tsocket.CloseWriteSend(ev, a)
	cw.SetCallback(func(*tevent.Req[struct{}]) { called = true })
	if called {
		t.Fatal("callback inside CloseWriteSend")
	}
	if err := ev.LoopOnce(); err != nil { // the Post
		t.Fatal(err)
	}
	if err := tsocket.CloseWriteRecv(cw); err != nil || !called {
		t.Fatalf("CloseWriteRecv = %v, called %v", err, called)
	}
	if got := readToEOF(t, ev, b); len(got) != 0 {
		t.Fatalf("peer read %q", got)
	}
}

// The ends: a closed stream is net.ErrClosed, in an *OpError "shutdown";
// Close while the close-write waits fails it so too. A writev abandoned
// under a waiting close-write lets it go ahead; a close-write abandoned
// leaves the stream as it was.
func TestCloseWriteEnds(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()

		a, _ := unixPair(t, ev)
		closeT(t, a)
		cw := tsocket.CloseWriteSend(ev, a)
		poll(t, cw)
		var oe *tsocket.OpError
		if err := tsocket.CloseWriteRecv(cw); !errors.Is(err, net.ErrClosed) || !errors.As(err, &oe) || oe.Op != "shutdown" {
			t.Errorf("CloseWriteSend on a closed stream = %v, want net.ErrClosed in an *OpError shutdown", err)
		}

		a, _ = unixPair(t, ev)
		fillSocket(t, ev, a)
		cw = tsocket.CloseWriteSend(ev, a)
		closeT(t, a)
		poll(t, cw)
		if err := tsocket.CloseWriteRecv(cw); !errors.Is(err, net.ErrClosed) {
			t.Errorf("CloseWriteSend failed by Close = %v, want net.ErrClosed", err)
		}

		a, b := unixPair(t, ev)
		wreq := fillSocket(t, ev, a)
		cw = tsocket.CloseWriteSend(ev, a)
		wreq.Abandon()
		poll(t, cw)
		if err := tsocket.CloseWriteRecv(cw); err != nil {
			t.Fatalf("CloseWriteSend after the writev was abandoned: %v", err)
		}
		readToEOF(t, ev, b) // what the writev wrote, then EOF

		a, b = unixPair(t, ev)
		wreq = fillSocket(t, ev, a)
		cw = tsocket.CloseWriteSend(ev, a)
		cw.Abandon()
		buf := make([]byte, 1<<20)
		for n := 0; n < 16<<20; {
			r := tsocket.ReadSomeSend(ev, b, buf)
			poll(t, r)
			k, err := tsocket.ReadSomeRecv(r)
			if err != nil {
				t.Fatalf("peer read after %d bytes: %v", n, err)
			}
			n += k
		}
		poll(t, wreq)
		if _, err := tsocket.WritevRecv(wreq); err != nil {
			t.Fatal(err)
		}
		writeAll(t, ev, a, []byte("more")) // no shutdown was made
		rreq := tsocket.ReadvSend(ev, b, [][]byte{buf[:4]})
		poll(t, rreq)
		if _, err := tsocket.ReadvRecv(rreq); err != nil || string(buf[:4]) != "more" {
			t.Fatalf("peer read %q, %v after an abandoned close-write", buf[:4], err)
		}
	})
}

// eofConn records whether the connection under a tls.Conn reached its end
// of stream: crypto/tls reports io.EOF for close_notify without reading
// further, and for a bare FIN only after it read the end.
type eofConn struct {
	net.Conn
	sawEOF atomic.Bool
}

func (c *eofConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if err == io.EOF {
		c.sawEOF.Store(true)
	}
	return n, err
}

// On a TLS stream close_notify goes before the shutdown: a crypto/tls
// peer reads every byte and then io.EOF from the alert, and the stream
// still reads its reply. A write afterwards is net.ErrClosed.
func TestCloseWriteTLS(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		const size = 4 << 20
		ev := newCtx()
		cfg := testutil.TLS(t)
		addr, done := stdPeer(t, func(c net.Conn) error {
			ec := &eofConn{Conn: c}
			tc := tls.Server(ec, cfg.Server)
			data, err := io.ReadAll(tc) // to io.EOF
			if err != nil {
				return err
			}
			if ec.sawEOF.Load() {
				return errors.New("crypto/tls reached the TCP end of stream: no close_notify came before it")
			}
			if _, err := tc.Write([]byte(strconv.Itoa(len(data)))); err != nil {
				return err
			}
			return tc.Close()
		})
		s := dialTLS(t, ev, addr, cfg.Client)
		defer s.Close()
		wreq := tsocket.WritevSend(ev, s, [][]byte{make([]byte, size)})
		cw := tsocket.CloseWriteSend(ev, s)
		poll(t, cw)
		if err := tsocket.CloseWriteRecv(cw); err != nil {
			t.Fatalf("CloseWriteRecv: %v", err)
		}
		if _, err := tsocket.WritevRecv(wreq); err != nil {
			t.Fatal(err)
		}
		if reply := readToEOF(t, ev, s); string(reply) != strconv.Itoa(size) {
			t.Errorf("reply %q, want the peer to have read %d bytes", reply, size)
		}
		if err := <-done; err != nil {
			t.Fatalf("crypto/tls peer: %v", err)
		}
		w := tsocket.WritevSend(ev, s, [][]byte{[]byte("x")})
		poll(t, w)
		if _, err := tsocket.WritevRecv(w); !errors.Is(err, net.ErrClosed) {
			t.Errorf("writev after CloseWrite on TLS = %v, want net.ErrClosed", err)
		}
	})
}
