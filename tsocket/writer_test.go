package tsocket_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// turn runs one iteration of ev's loop without blocking in the wait: the
// immediate queued first makes the loop only look at its descriptors.
func turn(t testing.TB, ev *tevent.Context) {
	t.Helper()
	ev.ScheduleImmediate(func() {})
	if err := ev.LoopOnce(); err != nil {
		t.Fatal(err)
	}
}

// sink reads a stream on the loop, once started, until EOF or an error,
// keeping every byte.
type sink struct {
	ev  *tevent.Context
	s   *tsocket.Stream
	buf []byte
	got []byte
	err error // io.EOF at a clean end
}

func newSink(ev *tevent.Context, s *tsocket.Stream) *sink {
	return &sink{ev: ev, s: s, buf: make([]byte, 64<<10)}
}

func (k *sink) start() { tsocket.ReadSomeSend(k.ev, k.s, k.buf).SetCallback(k.readDone) }

func (k *sink) readDone(req *tevent.Req[int]) {
	n, err := tsocket.ReadSomeRecv(req)
	if err != nil {
		k.err = err
		return
	}
	k.got = append(k.got, k.buf[:n]...)
	k.start()
}

// wait runs the loop until the sink holds n bytes or has ended.
func (k *sink) wait(t testing.TB, n int) {
	t.Helper()
	if err := k.ev.LoopUntil(func() bool { return len(k.got) >= n || k.err != nil }); err != nil {
		t.Fatal(err)
	}
}

// testMessage returns the i-th test message, split into one to three buffers,
// so that no two messages and no shifted copies look alike.
func testMessage(i int) [][]byte {
	body := pattern(1 + i*7919%5000)
	hdr := []byte("<" + strconv.Itoa(i) + ":" + strconv.Itoa(len(body)) + ">")
	switch i % 3 {
	case 0:
		return [][]byte{append(hdr, body...)}
	case 1:
		return [][]byte{hdr, body}
	}
	return [][]byte{hdr, body[:len(body)/2], {}, body[len(body)/2:]}
}

// writeMessages writes test messages 0 to n-1 to w and returns the bytes
// they make.
func writeMessages(t testing.TB, w *tsocket.Writer, n int) []byte {
	t.Helper()
	var want []byte
	for i := range n {
		bufs := testMessage(i)
		want = append(want, bytes.Join(bufs, nil)...)
		if err := w.Write(bufs...); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
	return want
}

func drainRecv(t testing.TB, req *tevent.Req[struct{}]) error {
	t.Helper()
	poll(t, req)
	return tsocket.WriterDrainRecv(req)
}

// posted checks that req, finished inside its Send, calls back on the
// loop's next turn, after the caller set the callback, and returns its
// error.
func posted(t testing.TB, ev *tevent.Context, req *tevent.Req[struct{}]) error {
	t.Helper()
	called := false
	req.SetCallback(func(*tevent.Req[struct{}]) { called = true })
	turn(t, ev)
	if !called {
		t.Fatalf("request not called back on the next turn (%v)", req.State())
	}
	_, err := req.Recv()
	return err
}

// smallBuffers shrinks the socket buffers between a writer and its
// reader, so that a TCP pair fills as soon as a socketpair does.
func smallBuffers(t testing.TB, w, r *tsocket.Stream) {
	t.Helper()
	if err := unix.SetsockoptInt(w.Fd(), unix.SOL_SOCKET, unix.SO_SNDBUF, 32<<10); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptInt(r.Fd(), unix.SOL_SOCKET, unix.SO_RCVBUF, 32<<10); err != nil {
		t.Fatal(err)
	}
}

// Writes of every shape arrive whole and in order; Write itself writes
// nothing; Buffered counts every byte until it is written; a drained
// Writer holds no event.
func TestWriterInOrder(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			w := tsocket.NewWriter(ev, a, tsocket.WriterLimits{})
			want := writeMessages(t, w, 2000)
			if n, err := b.PendingBytes(); n != 0 || err != nil {
				t.Fatalf("the peer has %d bytes (%v) before the loop ran: Write wrote", n, err)
			}
			if w.Buffered() != len(want) {
				t.Fatalf("Buffered = %d, want %d", w.Buffered(), len(want))
			}
			k := newSink(ev, b)
			k.start()
			if err := drainRecv(t, tsocket.WriterDrainSend(ev, w, 0)); err != nil {
				t.Fatalf("drain: %v", err)
			}
			k.wait(t, len(want))
			if !bytes.Equal(k.got, want) {
				t.Fatalf("stream differs: got %d bytes, want %d", len(k.got), len(want))
			}
			if w.Buffered() != 0 || w.Err() != nil || a.HasEvent() {
				t.Fatalf("drained: Buffered %d, Err %v, event held %v", w.Buffered(), w.Err(), a.HasEvent())
			}
			if err := w.Write(); err != nil {
				t.Fatalf("empty Write: %v", err)
			}
		})
	})
}

// Everything queued while a writev is in flight leaves in one writev when
// it finishes: Buffered falls from the pending bytes to 0 in one step.
// (With one writev per Write, the second drain would finish with the
// last Write's bytes still held.)
func TestWriterCoalesces(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			smallBuffers(t, a, b)
			w := tsocket.NewWriter(ev, a, tsocket.WriterLimits{})
			first := pattern(1 << 20)
			if err := w.Write(first); err != nil {
				t.Fatal(err)
			}
			turn(t, ev)
			if w.Buffered() != len(first) {
				t.Fatalf("1 MiB fitted into the socket buffer (Buffered %d)", w.Buffered())
			}
			want := append([]byte(nil), first...)
			for i := range 100 {
				msg := pattern(16<<10 + i)
				want = append(want, msg...)
				if err := w.Write(msg); err != nil {
					t.Fatal(err)
				}
			}
			pending := len(want) - len(first)
			var seen []int // Buffered when each drain finished
			for _, below := range []int{pending, pending - 1} {
				tsocket.WriterDrainSend(ev, w, below).SetCallback(func(req *tevent.Req[struct{}]) {
					if err := tsocket.WriterDrainRecv(req); err != nil {
						t.Errorf("drain below %d: %v", below, err)
					}
					seen = append(seen, w.Buffered())
				})
			}
			k := newSink(ev, b)
			k.start()
			k.wait(t, len(want))
			if err := ev.LoopUntil(func() bool { return len(seen) == 2 }); err != nil {
				t.Fatal(err)
			}
			if seen[0] != pending || seen[1] != 0 {
				t.Errorf("Buffered at the drains = %v, want [%d 0]", seen, pending)
			}
			if !bytes.Equal(k.got, want) {
				t.Fatalf("stream differs")
			}
		})
	})
}

// In steady state the Writer allocates only the writev's request per
// flush, however many Writes the flush carries.
func TestWriterAllocations(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		w := tsocket.NewWriter(ev, a, tsocket.WriterLimits{Soft: 1 << 10, Hard: 1 << 20})
		reply, crlf := []byte("+PONG"), []byte("\r\n")
		in := make([]byte, 4096)
		round := func() {
			for range 16 {
				if err := w.Write(reply, crlf); err != nil {
					t.Fatal(err)
				}
			}
			turn(t, ev)
			if w.Buffered() != 0 {
				t.Fatalf("Buffered %d after a flush to an empty socket", w.Buffered())
			}
			if n, err := unix.Read(b.Fd(), in); n != 16*7 || err != nil {
				t.Fatalf("peer read %d, %v", n, err)
			}
		}
		round()
		if avg := testing.AllocsPerRun(200, round); avg > 1 {
			t.Errorf("%.1f allocations per flush of 16 Writes; want at most 1 (the writev)", avg)
		}
	})
}

// A flush that the socket takes whole in one writev costs the loop one
// iteration: the Writer takes the result at once, so nothing is posted
// for a callback that would have nothing to do (each such turn is one
// more epoll_wait per reply). LoopWait returns once nothing is left.
func TestWriterFlushOneTurn(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		iterations := 0
		ev := newCtx(tevent.WithTrace(func(p tevent.TracePoint) {
			if p == tevent.TraceBeforeLoopOnce {
				iterations++
			}
		}))
		a, b := unixPair(t, ev)
		w := tsocket.NewWriter(ev, a, tsocket.WriterLimits{})
		in := make([]byte, 64)
		for round := range 3 {
			if err := w.Write([]byte("$5\r\n"), []byte("hello"), []byte("\r\n")); err != nil {
				t.Fatal(err)
			}
			iterations = 0
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
			if w.Buffered() != 0 || iterations != 1 {
				t.Fatalf("round %d: Buffered %d after %d loop iterations; want 0 after 1", round, w.Buffered(), iterations)
			}
			if n, err := unix.Read(b.Fd(), in); n != 11 || err != nil {
				t.Fatalf("peer read %d, %v", n, err)
			}
		}
	})
}

// A peer that never reads: the Writer goes over its soft limit, never
// holds more than its hard limit, and refuses what would go past it; once
// the peer reads, a drain finishes and every accepted byte arrives.
func TestWriterBackpressure(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			smallBuffers(t, a, b)
			lim := tsocket.WriterLimits{Soft: 64 << 10, Hard: 256 << 10}
			w := tsocket.NewWriter(ev, a, lim)
			var want []byte
			overSoft := false
			var err error
			for i := 0; i < 4096 && err == nil; i++ {
				chunk := pattern(16<<10 + i)
				if err = w.Write(chunk); err == nil {
					want = append(want, chunk...)
				}
				overSoft = overSoft || w.OverSoft()
				if w.Buffered() > lim.Hard {
					t.Fatalf("Buffered %d over the hard limit %d", w.Buffered(), lim.Hard)
				}
				turn(t, ev)
			}
			if !errors.Is(err, tsocket.ErrWriterFull) || !errors.Is(err, syscall.ENOBUFS) {
				t.Fatalf("Write past the hard limit: %v, want ErrWriterFull (ENOBUFS)", err)
			}
			if !overSoft || !w.OverSoft() || w.Err() != nil {
				t.Fatalf("over soft %v/%v, Err %v", overSoft, w.OverSoft(), w.Err())
			}
			// Exactly up to Hard is accepted; one byte more is not.
			room := pattern(lim.Hard - w.Buffered())
			if err := w.Write(room); err != nil {
				t.Fatalf("Write up to the hard limit: %v", err)
			}
			want = append(want, room...)
			if err := w.Write([]byte{1}); !errors.Is(err, tsocket.ErrWriterFull) || w.Buffered() != lim.Hard {
				t.Fatalf("Write at the hard limit: %v, Buffered %d", err, w.Buffered())
			}
			d := tsocket.WriterDrainSend(ev, w, 0)
			k := newSink(ev, b)
			k.start()
			if err := drainRecv(t, d); err != nil {
				t.Fatalf("drain: %v", err)
			}
			k.wait(t, len(want))
			if !bytes.Equal(k.got, want) {
				t.Fatalf("stream differs: got %d bytes, want %d", len(k.got), len(want))
			}
		})
	})
}

// A single Write larger than the hard limit is refused even when the
// Writer is empty, and queues nothing, not even a flush.
func TestWriterHardLimitEmpty(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, _ := unixPair(t, ev)
		w := tsocket.NewWriter(ev, a, tsocket.WriterLimits{Hard: 100})
		if err := w.Write(make([]byte, 60), make([]byte, 41)); !errors.Is(err, tsocket.ErrWriterFull) {
			t.Fatalf("101 bytes into a 100-byte Writer: %v", err)
		}
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) || w.Buffered() != 0 {
			t.Fatalf("after a refused Write: loop %v, Buffered %d", err, w.Buffered())
		}
		if err := w.Write(make([]byte, 60), nil, make([]byte, 40)); err != nil {
			t.Fatalf("100 bytes into a 100-byte Writer: %v", err)
		}
		if err := drainRecv(t, tsocket.WriterDrainSend(ev, w, 0)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWriterNegativeLimitsPanic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewWriter with a negative limit did not panic")
		}
	}()
	tsocket.NewWriter(nil, nil, tsocket.WriterLimits{Soft: -1})
}

// The documented server pattern: read requests while the Writer is under
// its soft limit, stop reading when it goes over, and read again when a
// drain says the client caught up. The Writer never holds more than the
// soft limit and one reply, and the client gets every reply.
func TestWriterPauseResume(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, cli, srv *tsocket.Stream) {
			const n, reqSize, replySize = 500, 8, 4 << 10
			lim := tsocket.WriterLimits{Soft: 32 << 10, Hard: 32<<10 + replySize}
			smallBuffers(t, srv, cli)
			w := tsocket.NewWriter(ev, srv, lim)
			k := newSink(ev, cli)
			pauses, served, most := 0, 0, 0
			req := make([]byte, reqSize)
			var read func()
			read = func() {
				tsocket.ReadvSend(ev, srv, [][]byte{req}).SetCallback(func(r *tevent.Req[int]) {
					if _, err := tsocket.ReadvRecv(r); err != nil {
						t.Errorf("server read: %v", err)
						return
					}
					i, _ := strconv.Atoi(string(bytes.TrimSpace(req)))
					if err := w.Write(bytes.Repeat([]byte{byte(i)}, replySize)); err != nil {
						t.Errorf("reply %d: %v", i, err)
						return
					}
					most = max(most, w.Buffered())
					if served++; served == n {
						tsocket.WriterCloseSend(ev, w)
						return
					}
					if !w.OverSoft() {
						read()
						return
					}
					if pauses++; pauses == 1 {
						k.start() // the client starts reading late
					}
					tsocket.WriterDrainSend(ev, w, lim.Soft/2).SetCallback(func(d *tevent.Req[struct{}]) {
						if err := tsocket.WriterDrainRecv(d); err != nil {
							t.Errorf("drain: %v", err)
							return
						}
						read()
					})
				})
			}
			read()
			var reqs []byte
			for i := range n {
				reqs = fmt.Appendf(reqs, "%7d\n", i)
			}
			poll(t, tsocket.WritevSend(ev, cli, [][]byte{reqs}))
			k.wait(t, n*replySize+1)
			if !errors.Is(k.err, io.EOF) || len(k.got) != n*replySize {
				t.Fatalf("client got %d bytes, then %v; want %d, then EOF", len(k.got), k.err, n*replySize)
			}
			for i := range n {
				if k.got[i*replySize] != byte(i) || k.got[(i+1)*replySize-1] != byte(i) {
					t.Fatalf("reply %d differs", i)
				}
			}
			if pauses == 0 || most > lim.Soft+replySize {
				t.Errorf("%d pauses, at most %d bytes held; want some pauses and at most %d", pauses, most, lim.Soft+replySize)
			}
		})
	})
}

// A client that sends all its requests, then shuts down its write side,
// still receives every reply: the server reads EOF with the replies still
// queued, and WriterCloseSend writes them all before it closes.
func TestWriterHalfClosedClient(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, cli, srv *tsocket.Stream) {
			const n = 1000
			var reqs, want []byte
			for i := range n {
				reqs = fmt.Appendf(reqs, "GET %d\n", i)
				want = fmt.Appendf(want, "VALUE %d %s\n", i, bytes.Repeat([]byte{'a' + byte(i%26)}, 1000))
			}
			poll(t, tsocket.WritevSend(ev, cli, [][]byte{reqs}))
			if err := unix.Shutdown(cli.Fd(), unix.SHUT_WR); err != nil {
				t.Fatal(err)
			}

			smallBuffers(t, srv, cli)
			w := tsocket.NewWriter(ev, srv, tsocket.WriterLimits{})
			k := newSink(ev, cli)
			var closeErr error
			closed := false
			buf := make([]byte, 1500) // lines straddle reads
			var line []byte
			var read func()
			read = func() {
				tsocket.ReadSomeSend(ev, srv, buf).SetCallback(func(r *tevent.Req[int]) {
					got, err := tsocket.ReadSomeRecv(r)
					if errors.Is(err, io.EOF) {
						if w.Buffered() == 0 {
							t.Errorf("EOF with nothing queued: the test shows nothing")
						}
						tsocket.WriterCloseSend(ev, w).SetCallback(func(c *tevent.Req[struct{}]) {
							closeErr, closed = tsocket.WriterCloseRecv(c), true
						})
						k.start() // only now does the client read
						return
					}
					if err != nil {
						t.Errorf("server read: %v", err)
						return
					}
					for _, c := range buf[:got] {
						if c != '\n' {
							line = append(line, c)
							continue
						}
						key := bytes.TrimPrefix(line, []byte("GET "))
						i, _ := strconv.Atoi(string(key))
						reply := fmt.Appendf(nil, "VALUE %s %s\n", key, bytes.Repeat([]byte{'a' + byte(i%26)}, 1000))
						if err := w.Write(reply); err != nil {
							t.Errorf("reply: %v", err)
						}
						line = line[:0]
					}
					read()
				})
			}
			read()
			k.wait(t, len(want)+1)
			if err := ev.LoopUntil(func() bool { return closed }); err != nil {
				t.Fatal(err)
			}
			if closeErr != nil || !errors.Is(k.err, io.EOF) {
				t.Fatalf("close: %v; client read ended with %v, want EOF", closeErr, k.err)
			}
			if !bytes.Equal(k.got, want) {
				t.Fatalf("client got %d bytes of replies, want %d", len(k.got), len(want))
			}
			if _, err := srv.PendingBytes(); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("server stream after WriterCloseSend: %v, want closed", err)
			}
		})
	})
}

// blocked returns a Writer on s holding a 16 MiB write in flight that the
// socket cannot take, with more queued behind it.
func blocked(t *testing.T, ev *tevent.Context, s *tsocket.Stream) *tsocket.Writer {
	t.Helper()
	w := tsocket.NewWriter(ev, s, tsocket.WriterLimits{})
	if err := w.Write(make([]byte, 16<<20)); err != nil {
		t.Fatal(err)
	}
	turn(t, ev)
	if err := w.Write([]byte("queued behind")); err != nil {
		t.Fatal(err)
	}
	if w.Buffered() <= 16<<20 {
		t.Fatalf("16 MiB fitted into the socket buffer")
	}
	return w
}

// A peer that resets the connection mid-write fails the Writer with
// ECONNRESET or EPIPE: Err, Write and every drain report it, what was
// queued is dropped, and WriterCloseSend still closes the stream.
func TestWriterPeerReset(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := tcpPair(t, ev)
		w := blocked(t, ev, a)
		d := tsocket.WriterDrainSend(ev, w, 0)
		if err := unix.SetsockoptLinger(b.Fd(), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
			t.Fatal(err)
		}
		closeT(t, b)
		err := drainRecv(t, d)
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
			t.Fatalf("drain on a reset connection: %v, want ECONNRESET or EPIPE", err)
		}
		if w.Err() != err || w.Buffered() != 0 {
			t.Fatalf("after the failure: Err %v, Buffered %d; want %v, 0", w.Err(), w.Buffered(), err)
		}
		if werr := w.Write([]byte("more")); werr != err {
			t.Fatalf("Write after the failure: %v, want %v", werr, err)
		}
		// A drain now fails at once, through Post.
		if derr := posted(t, ev, tsocket.WriterDrainSend(ev, w, 1<<30)); derr != err {
			t.Fatalf("drain after the failure: %v, want %v", derr, err)
		}
		if cerr := posted(t, ev, tsocket.WriterCloseSend(ev, w)); cerr != err {
			t.Fatalf("close after the failure: %v, want %v", cerr, err)
		}
		if _, perr := a.PendingBytes(); !errors.Is(perr, net.ErrClosed) {
			t.Fatalf("stream after WriterCloseSend: %v, want closed", perr)
		}
	})
}

// A stream closed underneath fails the writev in flight with
// net.ErrClosed, and the Writer reports it; so does a Writer on a stream
// closed while it was idle, at its next flush.
func TestWriterStreamClosed(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, _ := unixPair(t, ev)
		w := blocked(t, ev, a)
		d := tsocket.WriterDrainSend(ev, w, 0)
		closeT(t, a)
		if err := drainRecv(t, d); !errors.Is(err, net.ErrClosed) || !errors.Is(w.Err(), net.ErrClosed) {
			t.Fatalf("drain %v, Err %v; want net.ErrClosed", err, w.Err())
		}

		c, _ := unixPair(t, ev)
		w = tsocket.NewWriter(ev, c, tsocket.WriterLimits{})
		closeT(t, c)
		if err := w.Write([]byte("x")); err != nil {
			t.Fatalf("Write: %v (failures show at the flush)", err)
		}
		if err := drainRecv(t, tsocket.WriterDrainSend(ev, w, 0)); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("drain: %v, want net.ErrClosed", err)
		}
		if err := w.Write([]byte("y")); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Write after the failure: %v, want net.ErrClosed", err)
		}
	})
}

// Drains: several wait at once and finish in order as Buffered falls; one
// already satisfied finishes through Post; one that times out, is
// cancelled or abandoned leaves the Writer; one on another context fails.
func TestWriterDrains(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		clock := tevent.NewFakeClock(time.Unix(1e9, 0))
		ev := newCtx(tevent.WithClock(clock))
		a, b := unixPair(t, ev)

		w := tsocket.NewWriter(ev, a, tsocket.WriterLimits{})
		if err := posted(t, ev, tsocket.WriterDrainSend(ev, w, 0)); err != nil {
			t.Fatalf("drain of an empty Writer: %v", err)
		}
		if err := tsocket.WriterDrainRecv(tsocket.WriterDrainSend(newCtx(), w, 0)); !errors.Is(err, tsocket.ErrWrongContext) {
			t.Fatalf("drain on another context: %v, want ErrWrongContext", err)
		}

		smallBuffers(t, a, b)
		w = blocked(t, ev, a)
		behind := make([]byte, 1<<20) // too much for the second writev to finish at once
		if err := w.Write(behind); err != nil {
			t.Fatal(err)
		}
		pending := w.Buffered() - 16<<20
		timed := tsocket.WriterDrainSend(ev, w, 0)
		timed.SetEndTime(ev.Now().Add(time.Minute))
		cancelled := tsocket.WriterDrainSend(ev, w, 0)
		abandoned := tsocket.WriterDrainSend(ev, w, 0)
		var order []string
		for _, name := range []string{"to 0", "to pending", "negative"} {
			below := map[string]int{"to 0": 0, "to pending": pending, "negative": -5}[name]
			tsocket.WriterDrainSend(ev, w, below).SetCallback(func(r *tevent.Req[struct{}]) {
				if err := tsocket.WriterDrainRecv(r); err != nil {
					t.Errorf("drain %s: %v", name, err)
				}
				order = append(order, fmt.Sprintf("%s at %d", name, w.Buffered()))
			})
		}
		if w.Drains() != 6 {
			t.Fatalf("%d drains waiting, want 6", w.Drains())
		}
		abandoned.Abandon()
		if !cancelled.Cancel() {
			t.Fatal("Cancel of a drain refused")
		}
		if err := tsocket.WriterDrainRecv(cancelled); !errors.Is(err, tevent.ErrCancelled) {
			t.Fatalf("cancelled drain: %v", err)
		}
		if err := drainRecv(t, timed); !errors.Is(err, tevent.ErrTimedOut) {
			t.Fatalf("drain past its end time: %v", err)
		}
		if w.Drains() != 3 {
			t.Fatalf("%d drains waiting after abandon, cancel and timeout; want 3", w.Drains())
		}
		k := newSink(ev, b)
		k.start()
		if err := ev.LoopUntil(func() bool { return len(order) == 3 }); err != nil {
			t.Fatal(err)
		}
		if got, want := fmt.Sprint(order), fmt.Sprintf("[to pending at %d to 0 at 0 negative at 0]", pending); got != want {
			t.Errorf("drains finished %s, want %s", got, want)
		}
		if w.Drains() != 0 {
			t.Errorf("%d drains left", w.Drains())
		}
	})
}

// WriterCloseSend writes what is queued, then closes; Write after it and a
// second close fail with net.ErrClosed.
func TestWriterClose(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		w := tsocket.NewWriter(ev, a, tsocket.WriterLimits{})
		want := writeMessages(t, w, 300)
		c := tsocket.WriterCloseSend(ev, w)
		if err := w.Write([]byte("late")); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Write after WriterCloseSend: %v, want net.ErrClosed", err)
		}
		if err := tsocket.WriterCloseRecv(tsocket.WriterCloseSend(ev, w)); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("second WriterCloseSend: %v, want net.ErrClosed", err)
		}
		k := newSink(ev, b)
		k.start()
		poll(t, c)
		if err := tsocket.WriterCloseRecv(c); err != nil {
			t.Fatalf("close: %v", err)
		}
		k.wait(t, len(want)+1)
		if !errors.Is(k.err, io.EOF) || !bytes.Equal(k.got, want) {
			t.Fatalf("peer got %d bytes then %v, want %d then EOF", len(k.got), k.err, len(want))
		}
		if _, err := a.PendingBytes(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("stream after close: %v", err)
		}

		// Nothing queued: closed at once, reported through Post.
		a, _ = unixPair(t, ev)
		w = tsocket.NewWriter(ev, a, tsocket.WriterLimits{})
		if err := posted(t, ev, tsocket.WriterCloseSend(ev, w)); err != nil {
			t.Fatalf("close of an empty Writer: %v", err)
		}
		if _, err := a.PendingBytes(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("stream after close: %v", err)
		}
		// A stream already closed.
		a, _ = unixPair(t, ev)
		w = tsocket.NewWriter(ev, a, tsocket.WriterLimits{})
		closeT(t, a)
		if err := posted(t, ev, tsocket.WriterCloseSend(ev, w)); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("close of a closed stream: %v, want net.ErrClosed", err)
		}
		if err := tsocket.WriterCloseRecv(tsocket.WriterCloseSend(newCtx(), w)); !errors.Is(err, tsocket.ErrWrongContext) {
			t.Fatalf("close on another context: %v, want ErrWrongContext", err)
		}
	})
}

// A close that times out on a peer that does not read closes the stream
// anyway and drops what is queued; drains waiting fail.
func TestWriterCloseTimeout(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(time.Unix(1e9, 0))))
		a, _ := unixPair(t, ev)
		w := blocked(t, ev, a)
		d := tsocket.WriterDrainSend(ev, w, 0)
		c := tsocket.WriterCloseSend(ev, w)
		c.SetEndTime(ev.Now().Add(30 * time.Second))
		poll(t, c)
		if err := tsocket.WriterCloseRecv(c); !errors.Is(err, tevent.ErrTimedOut) {
			t.Fatalf("close: %v, want ErrTimedOut", err)
		}
		if _, err := a.PendingBytes(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("stream after the timed-out close: %v, want closed", err)
		}
		if w.Buffered() != 0 || !errors.Is(w.Err(), net.ErrClosed) {
			t.Fatalf("Buffered %d, Err %v", w.Buffered(), w.Err())
		}
		if err := drainRecv(t, d); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("drain: %v, want net.ErrClosed", err)
		}
		if err := ev.LoopWait(); err != nil || a.HasEvent() {
			t.Fatalf("LoopWait %v, event held %v", err, a.HasEvent())
		}
	})
}

// Closing the context with a drain and a close in flight ends both with
// ErrClosed, without calling back, and the close still releases the
// stream.
func TestWriterContextClosed(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, _ := unixPair(t, ev)
		w := blocked(t, ev, a)
		called := false
		d := tsocket.WriterDrainSend(ev, w, 0)
		d.SetCallback(func(*tevent.Req[struct{}]) { called = true })
		c := tsocket.WriterCloseSend(ev, w)
		c.SetCallback(func(*tevent.Req[struct{}]) { called = true })
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		<-ev.Done()
		if err := tsocket.WriterDrainRecv(d); !errors.Is(err, tevent.ErrClosed) {
			t.Errorf("drain: %v, want ErrClosed", err)
		}
		if err := tsocket.WriterCloseRecv(c); !errors.Is(err, tevent.ErrClosed) {
			t.Errorf("close: %v, want ErrClosed", err)
		}
		if called || w.Drains() != 0 {
			t.Errorf("called back %v, %d drains left", called, w.Drains())
		}
		if _, err := a.PendingBytes(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("stream after the teardown: %v, want closed", err)
		}
	})
}

// BenchmarkWriter writes small replies, 16 per loop turn as a pipelining
// server does, through a Writer and, for comparison, with one WritevSend
// per reply. The peer drains its socket with read(2) after each turn.
func BenchmarkWriter(b *testing.B) {
	reply := []byte("+OK\r\n")
	const batch = 16
	setup := func(b *testing.B) (*tevent.Context, *tsocket.Stream, func()) {
		ev := newBenchCtx(b)
		s, peer, err := tsocket.Socketpair(ev)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close(); peer.Close() })
		in := make([]byte, 64<<10)
		return ev, s, func() {
			for {
				if _, err := unix.Read(peer.Fd(), in); err != nil {
					return // EAGAIN: drained
				}
			}
		}
	}
	b.Run("writer", func(b *testing.B) {
		ev, s, drain := setup(b)
		w := tsocket.NewWriter(ev, s, tsocket.WriterLimits{Soft: 1 << 20, Hard: 32 << 20})
		b.ReportAllocs()
		b.SetBytes(int64(len(reply)))
		for i := 0; b.Loop(); i++ {
			if err := w.Write(reply); err != nil {
				b.Fatal(err)
			}
			if i%batch == batch-1 {
				turn(b, ev)
				drain()
			}
		}
	})
	b.Run("writev-per-reply", func(b *testing.B) {
		ev, s, drain := setup(b)
		iov := [][]byte{reply}
		b.ReportAllocs()
		b.SetBytes(int64(len(reply)))
		for i := 0; b.Loop(); i++ {
			req := tsocket.WritevSend(ev, s, iov)
			if _, err := tsocket.WritevRecv(req); err != nil {
				b.Fatal(err) // the socket had room: finished inside Send
			}
			if i%batch == batch-1 {
				turn(b, ev)
				drain()
			}
		}
	})
}
