package tsocket_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// runLoop runs ev's loop on a goroutine of its own for the rest of the
// test, a far timer keeping it waiting for posted work; cleanup closes ev
// and waits for the goroutine to return.
func runLoop(t *testing.T, ev *tevent.Context) {
	t.Helper()
	ev.AddTimer(ev.Now().Add(time.Hour), func(*tevent.Timer, time.Time) {})
	done := make(chan error, 1)
	go func() { done <- ev.Run(context.Background()) }()
	t.Cleanup(func() {
		ev.Close()
		// ErrClosed: the test closed ev before Run began.
		if err := <-done; err != nil && !errors.Is(err, tevent.ErrClosed) {
			t.Errorf("Run: %v", err)
		}
		<-ev.Done()
	})
}

// netPairs runs fn with the two ends of a connected pair as net.Conns,
// over a socketpair and over TCP, with the loop on a goroutine of its own.
func netPairs(t *testing.T, newCtx func(...tevent.Option) *tevent.Context, fn func(t *testing.T, ev *tevent.Context, a, b net.Conn)) {
	pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
		ca, cb := tsocket.NetConn(a), tsocket.NetConn(b)
		runLoop(t, ev)
		t.Cleanup(func() { ca.Close(); cb.Close() })
		fn(t, ev, ca, cb)
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

// net/textproto and bufio run on a NetConn unchanged: a client sends
// commands, and a server on the loop, written with tsocket requests,
// answers them with multi-line replies, then says goodbye and closes.
func TestNetConnTextproto(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			serveLines(ev, b, func(line string) (string, bool) {
				cmd, arg, _ := strings.Cut(line, " ")
				if cmd == "QUIT" {
					return "221 bye\r\n", false
				}
				return "250-" + cmd + "\r\n250 " + strings.ToUpper(arg) + "\r\n", true
			})
			conn := tsocket.NetConn(a)
			runLoop(t, ev)
			tc := textproto.NewConn(conn)
			defer tc.Close()
			for _, arg := range []string{"hello", "textproto", "on a stream"} {
				id, err := tc.Cmd("ECHO %s", arg)
				if err != nil {
					t.Fatal(err)
				}
				tc.StartResponse(id)
				_, msg, err := tc.ReadResponse(250)
				tc.EndResponse(id)
				if want := "ECHO\n" + strings.ToUpper(arg); err != nil || msg != want {
					t.Fatalf("reply %q, %v; want %q", msg, err, want)
				}
			}
			if _, err := tc.Cmd("QUIT"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := tc.ReadCodeLine(221); err != nil {
				t.Fatal(err)
			}
			if _, err := tc.ReadLine(); err != io.EOF {
				t.Fatalf("after QUIT: %v; want io.EOF", err)
			}
		})
	})
}

// serveLines answers each line read from s with reply(line), on the loop,
// until reply says to stop or the peer closes.
func serveLines(ev *tevent.Context, s *tsocket.Stream, reply func(line string) (string, bool)) {
	var in []byte
	buf := make([]byte, 256)
	var read func()
	read = func() {
		tsocket.ReadSomeSend(ev, s, buf).SetCallback(func(req *tevent.Req[int]) {
			n, err := tsocket.ReadSomeRecv(req)
			if err != nil {
				s.Close()
				return
			}
			in = append(in, buf[:n]...)
			var out []byte
			more := true
			for more {
				i := bytes.Index(in, []byte("\r\n"))
				if i < 0 {
					break
				}
				r, goOn := reply(string(in[:i]))
				in = in[i+2:]
				out = append(out, r...)
				more = goOn
			}
			if len(out) == 0 {
				read()
				return
			}
			tsocket.WritevSend(ev, s, [][]byte{out}).SetCallback(func(req *tevent.Req[int]) {
				if _, err := tsocket.WritevRecv(req); err != nil || !more {
					s.Close()
					return
				}
				read()
			})
		})
	}
	read()
}

// A Read past its deadline times out as net.Conn's does and loses
// nothing: the bytes the loop's read brings later are the next Read's. A
// deadline moved into the past wakes a Read waiting, and a zero one
// clears it.
func TestNetConnReadDeadline(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		netPairs(t, newCtx, func(t *testing.T, ev *tevent.Context, a, b net.Conn) {
			buf := make([]byte, 64)
			a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if n, err := a.Read(buf); n != 0 || !isTimeout(err) {
				t.Fatalf("Read past the deadline = %d, %v; want a timeout", n, err)
			}
			if _, err := b.Write([]byte("late")); err != nil {
				t.Fatal(err)
			}
			if n, err := a.Read(buf); n != 0 || !isTimeout(err) {
				t.Fatalf("Read with the deadline passed = %d, %v; want a timeout", n, err)
			}
			a.SetReadDeadline(time.Time{})
			if n, err := io.ReadFull(a, buf[:4]); err != nil || string(buf[:n]) != "late" {
				t.Fatalf("Read after the timeout = %q, %v; want the bytes that came late", buf[:n], err)
			}

			// A Read waiting with no deadline is woken by one in the past.
			res := make(chan error, 1)
			go func() {
				_, err := a.Read(buf)
				res <- err
			}()
			a.SetReadDeadline(time.Now().Add(-time.Second))
			if err := <-res; !isTimeout(err) {
				t.Fatalf("Read woken by a past deadline: %v; want a timeout", err)
			}
			a.SetReadDeadline(time.Time{})
			if _, err := b.Write([]byte("x")); err != nil {
				t.Fatal(err)
			}
			if n, err := a.Read(buf); err != nil || string(buf[:n]) != "x" {
				t.Fatalf("Read = %q, %v; want x", buf[:n], err)
			}
		})
	})
}

// A Write that cannot finish by its deadline returns the bytes written
// and a timeout; the peer receives exactly those, and the conn goes on.
func TestNetConnWriteDeadline(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		netPairs(t, newCtx, func(t *testing.T, ev *tevent.Context, a, b net.Conn) {
			big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB: more than the socket buffers hold
			a.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			n, err := a.Write(big)
			if !isTimeout(err) || n >= len(big) {
				t.Fatalf("Write = %d, %v; want fewer than %d bytes and a timeout", n, err, len(big))
			}
			if n2, err := a.Write([]byte("more")); n2 != 0 || !isTimeout(err) {
				t.Fatalf("Write past the deadline = %d, %v; want a timeout", n2, err)
			}
			a.SetWriteDeadline(time.Time{})
			done := make(chan error, 1)
			go func() {
				_, err := a.Write([]byte("END"))
				done <- err
			}()
			got := make([]byte, n+3)
			if _, err := io.ReadFull(b, got); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("Write after the timeout: %v", err)
			}
			if !bytes.Equal(got[:n], big[:n]) || string(got[n:]) != "END" {
				t.Fatalf("the peer got %d bytes that are not the %d written, then END", len(got), n)
			}
		})
	})
}

// A Read and a Write run at the same time from two goroutines, a full
// megabyte each way through the loop's upper-casing echo (ExampleNetConn's).
func TestNetConnFullDuplex(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			upper(ev, b)
			conn := tsocket.NetConn(a)
			runLoop(t, ev)
			defer conn.Close()
			data := make([]byte, 1<<20)
			for i := range data {
				data[i] = 'a' + byte(i%26)
			}
			werr := make(chan error, 1)
			go func() {
				w := bufio.NewWriterSize(conn, 3000)
				_, err := w.Write(data)
				werr <- errors.Join(err, w.Flush())
			}()
			got := make([]byte, len(data))
			if _, err := io.ReadFull(conn, got); err != nil {
				t.Fatal(err)
			}
			if err := <-werr; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, bytes.ToUpper(data)) {
				t.Fatal("the echo differs from what was written")
			}
		})
	})
}

// Close from another goroutine wakes a Read waiting; Read, Write and the
// deadlines fail with net.ErrClosed afterwards; the addresses are the
// stream's.
func TestNetConnClose(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := tcpPair(t, ev)
		la, ra := a.LocalAddress(), a.RemoteAddress()
		conn, peer := tsocket.NetConn(a), tsocket.NetConn(b)
		runLoop(t, ev)
		defer peer.Close()
		if conn.LocalAddr() != la || conn.RemoteAddr() != ra || conn.LocalAddr().String() != peer.RemoteAddr().String() {
			t.Errorf("addresses %v %v; want the stream's, %v %v", conn.LocalAddr(), conn.RemoteAddr(), la, ra)
		}
		res := make(chan error, 1)
		go func() {
			_, err := conn.Read(make([]byte, 8))
			res <- err
		}()
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-res; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read woken by Close: %v; want net.ErrClosed", err)
		}
		if _, err := conn.Read(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close: %v", err)
		}
		if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Close: %v", err)
		}
		if err := conn.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
			t.Errorf("SetDeadline after Close: %v", err)
		}
		if err := conn.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close: %v", err)
		}
		if n, err := peer.Read(make([]byte, 8)); err != io.EOF {
			t.Errorf("the peer read %d, %v; want EOF", n, err)
		}
	})
}

// Once the context is closed, calls fail with net.ErrClosed instead of
// waiting for a loop that will never answer, and Close still releases
// the descriptor (Backends checks that none is left).
func TestNetConnContextClosed(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, _ := unixPair(t, ev)
		conn := tsocket.NetConn(a)
		runLoop(t, ev)
		res := make(chan error, 1)
		go func() {
			_, err := conn.Read(make([]byte, 8))
			res <- err
		}()
		ev.Close()
		<-ev.Done()
		if err := <-res; !errors.Is(err, net.ErrClosed) || !errors.Is(err, tevent.ErrClosed) {
			t.Errorf("Read across Context.Close: %v; want net.ErrClosed and tevent.ErrClosed", err)
		}
		if _, err := conn.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Write after Context.Close: %v", err)
		}
		if err := conn.Close(); err != nil {
			t.Errorf("Close after Context.Close: %v", err)
		}
		if _, err := a.PendingBytes(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("the stream is still open after Close: %v", err)
		}
	})
}
