package tsocket_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// pattern returns n bytes that differ from any shifted copy of themselves.
func pattern(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, uint64(n)))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// An 8 MiB writev through a peer that reads 4 KiB at a time arrives
// byte-exact, across many partial writes.
func TestWritevBigSlowReader(t *testing.T) {
	size := 8 << 20
	if testing.Short() {
		size = 1 << 20
	}
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			data := pattern(size)
			// Split the input into vectors of varied sizes.
			var iov [][]byte
			for rest := data; len(rest) > 0; {
				n := min(len(rest), 1+len(iov)*997%300000)
				iov = append(iov, rest[:n])
				rest = rest[n:]
			}
			w := tsocket.WritevSend(ev, a, iov)
			got := make([]byte, 0, size)
			chunk := make([]byte, 4096)
			var read func(req *tevent.Req[int])
			read = func(req *tevent.Req[int]) {
				if _, err := tsocket.ReadvRecv(req); err != nil {
					t.Errorf("readv: %v", err)
					return
				}
				got = append(got, chunk...)
				if len(got) < size {
					tsocket.ReadvSend(ev, b, [][]byte{chunk}).SetCallback(read)
				}
			}
			tsocket.ReadvSend(ev, b, [][]byte{chunk}).SetCallback(read)
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
			if n, err := tsocket.WritevRecv(w); n != size || err != nil {
				t.Fatalf("WritevRecv = %d, %v", n, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("data differs")
			}
		})
	})
}

// fill writes to s until its send buffer is full and returns the writev
// left waiting.
func fill(t *testing.T, ev *tevent.Context, s *tsocket.Stream) *tevent.Req[int] {
	t.Helper()
	buf := make([]byte, 16<<20)
	w := tsocket.WritevSend(ev, s, [][]byte{buf})
	if !w.IsInProgress() {
		t.Fatal("16 MiB fitted into the socket buffer")
	}
	return w
}

// A peer that resets the connection (SO_LINGER 0, then close) fails a
// writev in flight with ECONNRESET or EPIPE.
func TestWritevPeerReset(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := tcpPair(t, ev)
		w := fill(t, ev, a)
		if err := unix.SetsockoptLinger(b.Fd(), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
			t.Fatal(err)
		}
		closeT(t, b)
		poll(t, w)
		_, err := tsocket.WritevRecv(w)
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("writev to a reset peer: %v, want ECONNRESET or EPIPE", err)
		}
		// A readv on the reset connection fails too (not EOF: the data
		// was lost).
		r := tsocket.ReadvSend(ev, a, [][]byte{make([]byte, 1)})
		poll(t, r)
		if _, err := tsocket.ReadvRecv(r); err == nil {
			t.Fatalf("readv after reset succeeded")
		}
	})
}

// Samba's spin tests: a writev to a full socket whose peer shuts down fails
// within a few iterations; one whose peer stays silent times out at its end
// time; neither keeps the loop busy meanwhile.
func TestWritevNoSpin(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		t.Run("peer-shutdown", func(t *testing.T) {
			pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
				w := fill(t, ev, a)
				start := ev.Iterations()
				// A unix peer's shutdown is seen at once; a TCP peer that
				// shuts down keeps the connection and its full window, so
				// it closes (which resets, since data is unread).
				if b.LocalAddress().Family() == "unix" {
					if err := unix.Shutdown(b.Fd(), unix.SHUT_RDWR); err != nil {
						t.Fatal(err)
					}
				} else {
					closeT(t, b)
				}
				w.SetEndTime(ev.Now().Add(10 * time.Second))
				poll(t, w)
				_, err := tsocket.WritevRecv(w)
				if err == nil || errors.Is(err, tevent.ErrTimedOut) {
					t.Fatalf("writev to a shut-down peer: %v", err)
				}
				if n := ev.Iterations() - start; n > 10 {
					t.Errorf("%d iterations", n)
				}
			})
		})
		t.Run("peer-silent", func(t *testing.T) {
			clock := tevent.NewFakeClock(time.Unix(1e9, 0))
			pairs(t, func() *tevent.Context { return newCtx(tevent.WithClock(clock)) }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
				w := fill(t, ev, a)
				start := ev.Iterations()
				w.SetEndTime(ev.Now().Add(time.Minute))
				poll(t, w)
				if _, err := tsocket.WritevRecv(w); !errors.Is(err, tevent.ErrTimedOut) {
					t.Fatalf("writev to a silent peer: %v, want ErrTimedOut", err)
				}
				if n := ev.Iterations() - start; n > 10 {
					t.Errorf("%d iterations", n)
				}
				if a.HasEvent() {
					t.Errorf("timed-out writev left its event behind")
				}
				// The stream is usable for the next writev.
				w2 := tsocket.WritevSend(ev, a, [][]byte{{1}})
				w2.Abandon()
			})
		})
	})
}

// Abandoning a readv releases the stream's read slot and its event.
func TestReadvAbandonAndTimeout(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		clock := tevent.NewFakeClock(time.Unix(1e9, 0))
		ev := newCtx(tevent.WithClock(clock))
		a, _ := unixPair(t, ev)
		r := tsocket.ReadvSend(ev, a, [][]byte{make([]byte, 1)})
		if !a.HasEvent() {
			t.Fatal("waiting readv holds no event")
		}
		r.Abandon()
		if a.HasEvent() {
			t.Fatal("abandoned readv left its event")
		}
		r = tsocket.ReadvSend(ev, a, [][]byte{make([]byte, 1)})
		r.SetEndTime(ev.Now().Add(time.Second))
		poll(t, r)
		if _, err := tsocket.ReadvRecv(r); !errors.Is(err, tevent.ErrTimedOut) {
			t.Fatalf("readv: %v, want ErrTimedOut", err)
		}
		if a.HasEvent() {
			t.Fatal("timed-out readv left its event")
		}
		// Close with requests in flight fails them.
		r = tsocket.ReadvSend(ev, a, [][]byte{make([]byte, 1)})
		w := fill(t, ev, a)
		d := tsocket.DisconnectSend(ev, a)
		poll(t, d)
		if err := tsocket.DisconnectRecv(d); !errors.Is(err, syscall.EBUSY) {
			t.Errorf("disconnect while busy: %v, want EBUSY", err)
		}
		closeT(t, a)
		poll(t, r)
		poll(t, w)
		if _, err := tsocket.ReadvRecv(r); !errors.Is(err, errClosed()) {
			t.Errorf("readv at Close: %v", err)
		}
		if _, err := tsocket.WritevRecv(w); !errors.Is(err, errClosed()) {
			t.Errorf("writev at Close: %v", err)
		}
	})
}

func TestReadSome(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		buf := make([]byte, 64)
		// Nothing there yet: the request waits, then returns what arrived,
		// not a full buffer.
		req := tsocket.ReadSomeSend(ev, b, buf)
		if _, err := result(t, tsocket.ReadSomeSend(ev, b, buf)); !errors.Is(err, tsocket.ErrBusy) {
			t.Fatal("a second read in flight was not ErrBusy")
		}
		w := tsocket.WritevSend(ev, a, [][]byte{[]byte("hello")})
		n, err := result(t, req)
		if err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("ReadSomeRecv = %q, %v", buf[:n], err)
		}
		poll(t, w)
		// Data already there: at most len(buf), completed through Post.
		tsocket.WritevSend(ev, a, [][]byte{[]byte("0123456789")})
		small := make([]byte, 4)
		req = tsocket.ReadSomeSend(ev, b, small)
		called := false
		req.SetCallback(func(*tevent.Req[int]) { called = true })
		if called {
			t.Fatal("called back inside Send")
		}
		if n, err := result(t, req); n != 4 || err != nil || string(small) != "0123" {
			t.Fatalf("ReadSomeRecv = %d %q, %v", n, small, err)
		}
		// Empty buffer, then EOF.
		if _, err := tsocket.ReadSomeRecv(tsocket.ReadSomeSend(ev, b, nil)); err == nil {
			t.Fatal("ReadSomeSend with an empty buffer: no error")
		}
		rest := make([]byte, 64)
		if n, err := result(t, tsocket.ReadSomeSend(ev, b, rest)); n != 6 || err != nil {
			t.Fatalf("rest = %d, %v", n, err)
		}
		a.Close()
		if _, err := result(t, tsocket.ReadSomeSend(ev, b, rest)); !errors.Is(err, io.EOF) {
			t.Fatalf("after the peer closed: %v, want io.EOF", err)
		}
	})
}

// A socket busy on one context refuses requests from another with
// ErrWrongContext; once idle it moves to the context that uses it next.
func TestWrongContext(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev1, ev2 := newCtx(), newCtx()
		a, b := unixPair(t, ev1)
		buf := make([]byte, 8)
		r1 := tsocket.ReadSomeSend(ev1, b, buf) // waits on ev1
		if !r1.IsInProgress() {
			t.Fatal("read on an empty socket finished")
		}
		_, err := tsocket.WritevRecv(tsocket.WritevSend(ev2, b, [][]byte{[]byte("x")}))
		if !errors.Is(err, tsocket.ErrWrongContext) || !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("writev on ev2 while b reads on ev1: %v, want ErrWrongContext (EINVAL)", err)
		}
		// Idle again: the read abandoned, and its fd event gone with ev1's
		// next iteration. Then b moves to ev2.
		r1.Abandon()
		if err := ev1.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		poll(t, tsocket.WritevSend(ev1, a, [][]byte{[]byte("hi")}))
		if n, err := result(t, tsocket.ReadSomeSend(ev2, b, buf)); err != nil || string(buf[:n]) != "hi" {
			t.Fatalf("read on ev2 after moving: %q, %v", buf[:n], err)
		}
	})
}

// In steady state every kind of read costs its request and nothing else:
// the state of the read in flight lives in the Stream. Each round is a
// read and a write, two requests; a multi-buffer vector adds nothing once
// the stream's iovec array exists.
func TestReadAllocations(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		msg := [][]byte{[]byte("pi"), []byte("ng")}
		buf := make([]byte, 4)
		one, two := [][]byte{buf}, [][]byte{buf[:2], buf[2:]}
		pduVec := [][]byte{buf}
		pduStep := 0
		next := func(*tsocket.Stream) ([][]byte, error) {
			if pduStep++; pduStep == 1 {
				return pduVec, nil
			}
			return nil, nil
		}
		reads := []struct {
			name string
			read func() error
		}{
			{"ReadvSend", func() error {
				_, err := tsocket.ReadvRecv(pollReq(t, tsocket.ReadvSend(ev, b, one)))
				return err
			}},
			{"ReadvSend of two buffers", func() error {
				_, err := tsocket.ReadvRecv(pollReq(t, tsocket.ReadvSend(ev, b, two)))
				return err
			}},
			{"ReadSomeSend", func() error {
				_, err := tsocket.ReadSomeRecv(pollReq(t, tsocket.ReadSomeSend(ev, b, buf)))
				return err
			}},
			{"ReadvPDUSend", func() error {
				pduStep = 0
				return tsocket.ReadvPDURecv(pollReq(t, tsocket.ReadvPDUSend(ev, b, next)))
			}},
		}
		for _, r := range reads {
			round := func() {
				w := tsocket.WritevSend(ev, a, msg)
				if err := r.read(); err != nil || string(buf) != "ping" {
					t.Fatalf("%s: read %q, %v", r.name, buf, err)
				}
				if _, err := tsocket.WritevRecv(pollReq(t, w)); err != nil {
					t.Fatalf("%s: write: %v", r.name, err)
				}
				clear(buf)
			}
			round()
			if avg := testing.AllocsPerRun(100, round); avg > 2 {
				t.Errorf("%s: %.1f allocations per read and write; want at most 2 (the requests)", r.name, avg)
			}
		}
	})
}

// pollReq polls req and returns it, for a Recv in the same expression.
func pollReq[T any](t *testing.T, req *tevent.Req[T]) *tevent.Req[T] {
	t.Helper()
	poll(t, req)
	return req
}

// A read that times out lowers the stream's interest to the writev still
// in flight; if that epoll_ctl fails, the writev fails with the error
// instead of waiting for events the kernel no longer reports. Here it
// fails because the descriptor number was closed under the stream (a dup
// keeps the socket open); with the poll backend the wait reports the bad
// descriptor and the writev fails on its next send. Either way: EBADF,
// never a hang (the writev's end time bounds the test).
func TestCleanupErrorFailsTheOtherRequest(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, _ := unixPair(t, ev)
		w := tsocket.WritevSend(ev, a, [][]byte{make([]byte, 8<<20)}) // nobody reads: stuck
		r := tsocket.ReadSomeSend(ev, a, make([]byte, 8))
		if !w.IsInProgress() || !r.IsInProgress() {
			t.Fatal("the writev or the read finished at once")
		}
		r.SetEndTime(ev.Now().Add(10 * time.Millisecond))
		w.SetEndTime(ev.Now().Add(5 * time.Second))
		fd := a.Fd()
		keep, err := unix.Dup(fd)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Close(fd); err != nil {
			t.Fatal(err)
		}
		defer func() {
			// Give the stream its descriptor number back for its Close.
			if err := sys.Dup2(keep, fd); err != nil { // close-on-exec on every system
				t.Errorf("dup3: %v", err)
			}
			unix.Close(keep)
		}()
		poll(t, w)
		if _, err := tsocket.WritevRecv(w); !errors.Is(err, syscall.EBADF) {
			t.Errorf("writev: %v, want EBADF", err)
		}
		poll(t, r)
	})
}
