package tsocket_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// sendAll writes p to s and waits until it is written.
func sendAll(t testing.TB, ev *tevent.Context, s *tsocket.Stream, p string) {
	t.Helper()
	writeAll(t, ev, s, []byte(p))
}

// readRecord runs a ReadUntilSend to its end.
func readRecord(t testing.TB, ev *tevent.Context, r *tsocket.Reader, delim string) (string, error) {
	t.Helper()
	req := tsocket.ReadUntilSend(ev, r, []byte(delim))
	poll(t, req)
	rec, err := tsocket.ReadUntilRecv(req)
	return string(rec), err
}

// readFull runs a ReadFullSend of n bytes to its end.
func readFull(t testing.TB, ev *tevent.Context, r *tsocket.Reader, n int) (string, error) {
	t.Helper()
	buf := make([]byte, n)
	req := tsocket.ReadFullSend(ev, r, buf)
	poll(t, req)
	got, err := tsocket.ReadFullRecv(req)
	return string(buf[:got]), err
}

// wantRecord fails t unless the next record of r is want.
func wantRecord(t testing.TB, ev *tevent.Context, r *tsocket.Reader, delim, want string) {
	t.Helper()
	if rec, err := readRecord(t, ev, r, delim); rec != want || err != nil {
		t.Fatalf("ReadUntil = %q, %v; want %q", rec, err, want)
	}
}

// buffered starts a ReadUntilSend that must finish from r's buffer: inside
// Send, with no read on the stream, and calling back only from the loop.
func buffered(t *testing.T, ev *tevent.Context, r *tsocket.Reader, delim, want string) {
	t.Helper()
	req := tsocket.ReadUntilSend(ev, r, []byte(delim))
	called := false
	req.SetCallback(func(*tevent.Req[[]byte]) { called = true })
	if req.IsInProgress() || called {
		t.Fatalf("buffered record: in progress %v, called back inside Send %v; want false, false", req.IsInProgress(), called)
	}
	if err := ev.LoopOnce(); err != nil {
		t.Fatal(err)
	}
	rec, err := tsocket.ReadUntilRecv(req)
	if !called || string(rec) != want || err != nil {
		t.Fatalf("buffered record: %q, %v, called back %v; want %q", rec, err, called, want)
	}
}

// readerCase runs fn with a Reader of b accepting records of up to max
// bytes, for a socketpair and a TCP pair (a, b) on each backend.
func readerCase(t *testing.T, max int, fn func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream, r *tsocket.Reader)) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			fn(t, ev, a, b, tsocket.NewReader(ev, b, max))
		})
	})
}

func TestReaderRecords(t *testing.T) {
	readerCase(t, 100, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
		req := tsocket.ReadUntilSend(ev, r, []byte("\r\n"))
		sendAll(t, ev, a, "abc\r")
		for i := 0; i < 100 && r.Buffered() < 4; i++ {
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
		}
		if !req.IsInProgress() || r.Buffered() != 4 {
			t.Fatalf("half a delimiter: in progress %v, %d bytes buffered; want true, 4", req.IsInProgress(), r.Buffered())
		}
		sendAll(t, ev, a, "\ndef\r\nghi\r\nj") // the rest of it, and two more records
		poll(t, req)
		if rec, err := tsocket.ReadUntilRecv(req); string(rec) != "abc\r\n" || err != nil {
			t.Fatalf("record split across reads: %q, %v", rec, err)
		}
		buffered(t, ev, r, "\r\n", "def\r\n")
		buffered(t, ev, r, "\r\n", "ghi\r\n")
		req = tsocket.ReadUntilSend(ev, r, []byte("\r\n"))
		if !req.IsInProgress() {
			t.Fatal("a partial record finished")
		}
		for _, p := range []string{"kl", "\r", "\n\r\n"} {
			sendAll(t, ev, a, p)
		}
		poll(t, req)
		if rec, err := tsocket.ReadUntilRecv(req); string(rec) != "jkl\r\n" || err != nil {
			t.Fatalf("record over three reads: %q, %v", rec, err)
		}
		wantRecord(t, ev, r, "\r\n", "\r\n")
		if r.Buffered() != 0 {
			t.Fatalf("%d bytes buffered after the last record", r.Buffered())
		}
	})
}

// A record arriving a byte at a time, delimiter split too, costs one read
// per byte and is found once complete (the search does not start over).
func TestReaderByteByByte(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		r := tsocket.NewReader(ev, b, 1<<20)
		rec := strings.Repeat("\rx", 8<<10) + "\r\n" // a near miss every other byte
		req := tsocket.ReadUntilSend(ev, r, []byte("\r\n"))
		for i := range len(rec) {
			if _, err := unix.Write(a.Fd(), []byte{rec[i]}); err != nil {
				t.Fatal(err)
			}
			for r.Buffered() <= i && req.IsInProgress() {
				if err := ev.LoopOnce(); err != nil {
					t.Fatal(err)
				}
			}
		}
		poll(t, req)
		if got, err := tsocket.ReadUntilRecv(req); string(got) != rec || err != nil {
			t.Fatalf("ReadUntil = %d bytes, %v; want %d bytes", len(got), err, len(rec))
		}
	})
}

func TestReaderTooLong(t *testing.T) {
	readerCase(t, 16, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
		sendAll(t, ev, a, "short\nthis line is much too long\nok\n")
		wantRecord(t, ev, r, "\n", "short\n")
		_, err := readRecord(t, ev, r, "\n")
		var oe *tsocket.OpError
		if !errors.Is(err, tsocket.ErrRecordTooLong) || !errors.Is(err, tevent.ErrRecordTooLong) ||
			!errors.Is(err, syscall.EMSGSIZE) || !errors.As(err, &oe) || oe.Op != "read" {
			t.Fatalf("record of 31 bytes: %v, want an *OpError wrapping ErrRecordTooLong", err)
		}
		wantRecord(t, ev, r, "\n", "ok\n") // the stream stays usable

		// 16 bytes and no delimiter: refused at once, without waiting for
		// the rest.
		sendAll(t, ev, a, "0123456789abcdef")
		if _, err := readRecord(t, ev, r, "\n"); !errors.Is(err, tsocket.ErrRecordTooLong) {
			t.Fatalf("16 bytes without a delimiter: %v, want ErrRecordTooLong", err)
		}
		sendAll(t, ev, a, "ghij\nnext\n")
		wantRecord(t, ev, r, "\n", "next\n")
	})
}

// A client sending an endless line: it is refused, the Reader's memory
// stays bounded while the rest of the line arrives, and the line after it
// reads fine.
func TestReaderEndlessLine(t *testing.T) {
	const max = 8 << 10
	readerCase(t, max, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
		line := bytes.Repeat([]byte("x"), 4<<20)
		w := tsocket.WritevSend(ev, a, [][]byte{line})
		w.SetCallback(func(w *tevent.Req[int]) {
			if _, err := tsocket.WritevRecv(w); err != nil {
				t.Errorf("writev: %v", err)
				return
			}
			tsocket.WritevSend(ev, a, [][]byte{[]byte("\nnext\n")})
		})
		if _, err := readRecord(t, ev, r, "\n"); !errors.Is(err, tsocket.ErrRecordTooLong) {
			t.Fatalf("endless line: %v, want ErrRecordTooLong", err)
		}
		wantRecord(t, ev, r, "\n", "next\n")
		if n := r.BufferSize(); n > max {
			t.Fatalf("buffer of %d bytes for records of at most %d", n, max)
		}
	})
}

func TestReaderEOF(t *testing.T) {
	for _, c := range []struct {
		name, in string
		max      int
		records  []string // read before the end
		end      error    // then twice
		held     int      // bytes still buffered
	}{
		{"partial record", "one\ntw", 0, []string{"one\n"}, io.ErrUnexpectedEOF, 2},
		{"clean end", "x\n", 0, []string{"x\n"}, io.EOF, 0},
		{"while skipping", "long\nbut no end", 8, []string{"long\n", ""}, io.ErrUnexpectedEOF, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			readerCase(t, c.max, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
				sendAll(t, ev, a, c.in)
				closeT(t, a)
				for _, want := range c.records {
					if want == "" { // a record over max
						if _, err := readRecord(t, ev, r, "\n"); !errors.Is(err, tsocket.ErrRecordTooLong) {
							t.Fatalf("long record: %v, want ErrRecordTooLong", err)
						}
						continue
					}
					wantRecord(t, ev, r, "\n", want)
				}
				for range 2 {
					if _, err := readRecord(t, ev, r, "\n"); err != c.end {
						t.Fatalf("at the end: %v, want %v", err, c.end)
					}
				}
				if r.Buffered() != c.held {
					t.Fatalf("%d bytes buffered at the end, want %d", r.Buffered(), c.held)
				}
			})
		})
	}
}

func TestReaderBusy(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		r := tsocket.NewReader(ev, b, 0)
		req := tsocket.ReadUntilSend(ev, r, []byte("\n"))
		if _, err := readRecord(t, ev, r, "\n"); !errors.Is(err, tsocket.ErrBusy) || !errors.Is(err, syscall.EBUSY) {
			t.Fatalf("a second ReadUntilSend: %v, want ErrBusy", err)
		}
		if _, err := readFull(t, ev, r, 3); !errors.Is(err, tsocket.ErrBusy) {
			t.Fatalf("a ReadFullSend beside a ReadUntilSend: %v, want ErrBusy", err)
		}
		// The Reader owns the stream's read side: a direct read meanwhile
		// is refused by the stream.
		direct := tsocket.ReadvSend(ev, b, [][]byte{make([]byte, 1)})
		poll(t, direct)
		if _, err := tsocket.ReadvRecv(direct); !errors.Is(err, tsocket.ErrBusy) {
			t.Fatalf("a direct ReadvSend beside the Reader: %v, want ErrBusy", err)
		}
		sendAll(t, ev, a, "hi\n")
		poll(t, req)
		if rec, err := tsocket.ReadUntilRecv(req); string(rec) != "hi\n" || err != nil {
			t.Fatalf("the first ReadUntilSend: %q, %v", rec, err)
		}
	})
}

func TestReaderArguments(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, other := newCtx(), newCtx()
		_, b := unixPair(t, ev)
		r := tsocket.NewReader(ev, b, 0)
		if _, err := readRecord(t, ev, r, ""); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("empty delimiter: %v, want EINVAL", err)
		}
		if _, err := readRecord(t, other, r, "\n"); !errors.Is(err, tsocket.ErrWrongContext) {
			t.Fatalf("request on another context: %v, want ErrWrongContext", err)
		}
		if n, err := readFull(t, ev, r, 0); n != "" || err != nil {
			t.Fatalf("ReadFull of nothing: %q, %v; want nothing, nil", n, err)
		}
	})
}

func TestReaderReadFull(t *testing.T) {
	t.Run("buffered", func(t *testing.T) {
		readerCase(t, 0, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
			sendAll(t, ev, a, "BDAT 5\r\nhelloQUIT\r\n")
			wantRecord(t, ev, r, "\r\n", "BDAT 5\r\n")
			buf := make([]byte, 5)
			req := tsocket.ReadFullSend(ev, r, buf)
			if req.IsInProgress() {
				t.Fatal("a buffered payload did not finish inside Send")
			}
			poll(t, req)
			if n, err := tsocket.ReadFullRecv(req); n != 5 || string(buf) != "hello" || err != nil {
				t.Fatalf("ReadFull = %d, %q, %v", n, buf, err)
			}
			buffered(t, ev, r, "\r\n", "QUIT\r\n")
		})
	})
	t.Run("straight into place", func(t *testing.T) {
		readerCase(t, 0, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
			payload := pattern(4 << 20)
			sendAll(t, ev, a, "BDAT 4194304 LAST\r\n"+string(payload[:1000]))
			w := tsocket.WritevSend(ev, a, [][]byte{payload[1000:], []byte("QUIT\r\n")})
			wantRecord(t, ev, r, "\r\n", "BDAT 4194304 LAST\r\n")
			got, err := readFull(t, ev, r, len(payload))
			if err != nil || got != string(payload) {
				t.Fatalf("ReadFull of 4 MiB: %d bytes, %v; equal %v", len(got), err, got == string(payload))
			}
			// The payload did not pass through the Reader's buffer.
			if n := r.BufferSize(); n > 4096 {
				t.Fatalf("buffer grew to %d bytes for a 4 MiB payload", n)
			}
			wantRecord(t, ev, r, "\r\n", "QUIT\r\n")
			poll(t, w)
		})
	})
	t.Run("eof after buffered bytes", func(t *testing.T) {
		readerCase(t, 0, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
			sendAll(t, ev, a, "x\nab")
			closeT(t, a)
			wantRecord(t, ev, r, "\n", "x\n")
			if n, err := readFull(t, ev, r, 4); err != io.ErrUnexpectedEOF || n != "" {
				t.Fatalf("ReadFull past the end: %q, %v; want io.ErrUnexpectedEOF", n, err)
			}
			if _, err := readFull(t, ev, r, 4); err != io.EOF {
				t.Fatalf("ReadFull at the end: %v, want io.EOF", err)
			}
		})
	})
	t.Run("eof in the direct read", func(t *testing.T) {
		readerCase(t, 0, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
			sendAll(t, ev, a, "ab")
			closeT(t, a)
			if _, err := readFull(t, ev, r, 4); err != io.ErrUnexpectedEOF {
				t.Fatalf("ReadFull of 4 from 2 unbuffered bytes: %v, want io.ErrUnexpectedEOF", err)
			}
		})
	})
	t.Run("after a long record", func(t *testing.T) {
		readerCase(t, 4, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
			sendAll(t, ev, a, "toolo")
			if _, err := readRecord(t, ev, r, "\n"); !errors.Is(err, tsocket.ErrRecordTooLong) {
				t.Fatalf("long record: %v, want ErrRecordTooLong", err)
			}
			sendAll(t, ev, a, "ng\nDATA")
			// The rest of the long record is skipped first.
			if got, err := readFull(t, ev, r, 4); got != "DATA" || err != nil {
				t.Fatalf("ReadFull after the long record: %q, %v; want DATA", got, err)
			}
			sendAll(t, ev, a, "another long one")
			if _, err := readRecord(t, ev, r, "\n"); !errors.Is(err, tsocket.ErrRecordTooLong) {
				t.Fatalf("second long record: %v, want ErrRecordTooLong", err)
			}
			closeT(t, a)
			if _, err := readFull(t, ev, r, 1); err != io.ErrUnexpectedEOF {
				t.Fatalf("ReadFull with the stream ending in a long record: %v, want io.ErrUnexpectedEOF", err)
			}
		})
	})
}

// A ReadUntilSend that times out, is cancelled or abandoned takes its read
// off the stream and loses nothing; a ReadFullSend abandoned part-way
// loses what it took, as documented.
func TestReaderTimeoutCancelAbandon(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		clock := tevent.NewFakeClock(time.Unix(1e9, 0))
		ev := newCtx(tevent.WithClock(clock))
		a, b := unixPair(t, ev)
		r := tsocket.NewReader(ev, b, 0)
		sendAll(t, ev, a, "par")

		req := tsocket.ReadUntilSend(ev, r, []byte("\n"))
		req.SetEndTime(ev.Now().Add(time.Minute))
		poll(t, req)
		if _, err := tsocket.ReadUntilRecv(req); !errors.Is(err, tevent.ErrTimedOut) {
			t.Fatalf("ReadUntil with nothing coming: %v, want ErrTimedOut", err)
		}
		if b.HasEvent() || r.Buffered() != 3 {
			t.Fatalf("after the timeout: stream event %v, %d bytes buffered; want false, 3", b.HasEvent(), r.Buffered())
		}

		req = tsocket.ReadUntilSend(ev, r, []byte("\n"))
		if !req.Cancel() {
			t.Fatal("Cancel refused")
		}
		if _, err := tsocket.ReadUntilRecv(req); !errors.Is(err, tevent.ErrCancelled) || b.HasEvent() {
			t.Fatalf("cancelled: %v, stream event %v; want ErrCancelled, false", err, b.HasEvent())
		}

		tsocket.ReadUntilSend(ev, r, []byte("\n")).Abandon()
		if b.HasEvent() {
			t.Fatal("abandoned ReadUntilSend left its read")
		}
		sendAll(t, ev, a, "tial\n")
		wantRecord(t, ev, r, "\n", "partial\n")

		full := tsocket.ReadFullSend(ev, r, make([]byte, 4))
		if full.Cancel() {
			t.Fatal("Cancel of a ReadFullSend accepted")
		}
		sendAll(t, ev, a, "ab")
		// The fake clock moves only once nothing else is ready, so by the
		// time this wakeup fires the ReadFull has read "ab".
		poll(t, tevent.WakeupSend(ev, ev.Now().Add(time.Second)))
		if !full.IsInProgress() {
			t.Fatal("ReadFull of 4 finished with 2 bytes sent")
		}
		full.Abandon()
		if b.HasEvent() {
			t.Fatal("abandoned ReadFullSend left its read")
		}
		sendAll(t, ev, a, "cd\n")
		wantRecord(t, ev, r, "\n", "cd\n") // "ab" went with the abandoned ReadFull
	})
}

// A read that finished but has not called back when its ReadUntilSend is
// abandoned keeps its bytes.
func TestReaderAbandonAfterRead(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		r := tsocket.NewReader(ev, b, 0)
		if _, err := unix.Write(a.Fd(), []byte("line\n")); err != nil {
			t.Fatal(err)
		}
		req := tsocket.ReadUntilSend(ev, r, []byte("\n")) // reads inside Send, calls back later
		req.Abandon()
		if r.Buffered() != 5 {
			t.Fatalf("%d bytes buffered after the abandon, want the 5 read", r.Buffered())
		}
		buffered(t, ev, r, "\n", "line\n")
	})
}

// A Reader holds no buffer while it holds no input: not before the first
// read, not while a ReadUntilSend waits for the next record (a client in
// IMAP IDLE), not while a ReadFullSend reads straight into its caller's
// buffer. It holds one from the moment input arrives until the next read
// once that input is used up, so the record returned stays valid.
func TestReaderIdleHoldsNoBuffer(t *testing.T) {
	readerCase(t, 0, func(t *testing.T, ev *tevent.Context, a, _ *tsocket.Stream, r *tsocket.Reader) {
		size := func(when string, want bool) {
			t.Helper()
			if got := r.BufferSize(); (got > 0) != want {
				t.Fatalf("%s: buffer of %d bytes; want one: %v", when, got, want)
			}
		}
		size("new", false)
		req := tsocket.ReadUntilSend(ev, r, []byte("\r\n"))
		size("first read in flight", false)
		turn(t, ev)
		size("first read waiting", false)
		sendAll(t, ev, a, "a1 IDLE\r\n")
		poll(t, req)
		rec, err := tsocket.ReadUntilRecv(req)
		if string(rec) != "a1 IDLE\r\n" || err != nil {
			t.Fatalf("ReadUntil = %q, %v", rec, err)
		}
		size("record returned", true)
		req = tsocket.ReadUntilSend(ev, r, []byte("\r\n"))
		size("next read in flight", false)
		turn(t, ev)
		size("next read waiting", false)
		sendAll(t, ev, a, "DONE\r\nBDAT 9\r\nhel")
		poll(t, req)
		if rec, err := tsocket.ReadUntilRecv(req); string(rec) != "DONE\r\n" || err != nil {
			t.Fatalf("ReadUntil = %q, %v", rec, err)
		}
		wantRecord(t, ev, r, "\r\n", "BDAT 9\r\n")
		size("part of a payload buffered", true)
		buf := make([]byte, 9)
		full := tsocket.ReadFullSend(ev, r, buf)
		size("the rest read straight into place", false)
		sendAll(t, ev, a, "lo world")
		poll(t, full)
		if n, err := tsocket.ReadFullRecv(full); n != 9 || string(buf) != "hello wor" || err != nil {
			t.Fatalf("ReadFull = %d, %q, %v", n, buf, err)
		}
		wantRecord(t, ev, r, "d", "ld")
		req = tsocket.ReadUntilSend(ev, r, []byte("\r\n"))
		size("read in flight after the payload", false)
		req.Cancel()
		poll(t, req)
		size("cancelled", false)
	})
}

// The same, measured: a hundred Readers, each with a record read and the
// next ReadUntilSend waiting (half of them with the start of the next
// record, "DO", buffered), hold less heap each than one read buffer would
// (4 KiB): the Reader, its request and its read on the stream.
func TestReaderIdleHeap(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		const n = 100
		peers, streams := make([]*tsocket.Stream, n), make([]*tsocket.Stream, n)
		for i := range n {
			peers[i], streams[i] = unixPair(t, ev)
		}
		heap := func() uint64 {
			var ms runtime.MemStats
			for range 3 { // a third cycle empties the pools' victim caches
				runtime.GC()
			}
			runtime.ReadMemStats(&ms)
			return ms.HeapAlloc
		}
		before := heap()
		readers, reqs := make([]*tsocket.Reader, n), make([]*tevent.Req[[]byte], n)
		for i := range n {
			readers[i] = tsocket.NewReader(ev, streams[i], 0)
			if _, err := unix.Write(peers[i].Fd(), []byte("a1 IDLE\r\nDO"[:9+2*(i%2)])); err != nil {
				t.Fatal(err)
			}
			wantRecord(t, ev, readers[i], "\r\n", "a1 IDLE\r\n")
			reqs[i] = tsocket.ReadUntilSend(ev, readers[i], []byte("\r\n"))
		}
		turn(t, ev)
		after := heap()
		per := (int64(after) - int64(before)) / n
		t.Logf("%d idle Readers: %d bytes of heap each", n, per)
		if per >= 2048 {
			t.Errorf("%d idle Readers hold %d bytes of heap each; want under 2048 (a read buffer is 4096)", n, per)
		}
		for i := range n {
			if _, err := unix.Write(peers[i].Fd(), []byte("DONE\r\n"[2*(i%2):])); err != nil {
				t.Fatal(err)
			}
			poll(t, reqs[i])
			if rec, err := tsocket.ReadUntilRecv(reqs[i]); string(rec) != "DONE\r\n" || err != nil {
				t.Fatalf("reader %d: %q, %v", i, rec, err)
			}
		}
	})
}

// Readers on one loop share a pool of buffers: a record returned stays
// valid, and part of a record stays buffered (a short one in a small
// buffer while the Reader waits), while other Readers of the loop take
// buffers from the pool and give them back.
func TestReaderPartialRecordSurvivesOthers(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a1, b1 := unixPair(t, ev)
		a2, b2 := unixPair(t, ev)
		r1, r2 := tsocket.NewReader(ev, b1, 0), tsocket.NewReader(ev, b2, 0)
		others := func() {
			t.Helper()
			for i := range 5 {
				line := strings.Repeat(string(rune('a'+i)), 3000) + "\n"
				sendAll(t, ev, a2, line)
				wantRecord(t, ev, r2, "\n", line)
			}
		}
		sendAll(t, ev, a1, "par")
		req := tsocket.ReadUntilSend(ev, r1, []byte("\n"))
		for i := 0; i < 100 && r1.Buffered() < 3; i++ {
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
		}
		if r1.Buffered() != 3 || r1.BufferSize() == 0 || r1.BufferSize() > 64 {
			t.Fatalf("part of a record: %d bytes buffered in %d; want 3 in a small buffer", r1.Buffered(), r1.BufferSize())
		}
		others()
		sendAll(t, ev, a1, "tial\nnext")
		poll(t, req)
		rec, err := tsocket.ReadUntilRecv(req)
		if string(rec) != "partial\n" || err != nil {
			t.Fatalf("the partial record after the other Reader's reads: %q, %v", rec, err)
		}
		others()
		if string(rec) != "partial\n" {
			t.Fatalf("the record returned changed to %q before the next read on its Reader", rec)
		}
		sendAll(t, ev, a1, "\n")
		wantRecord(t, ev, r1, "\n", "next\n")
	})
}

func TestReaderClosed(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		r := tsocket.NewReader(ev, b, 0)
		req := tsocket.ReadUntilSend(ev, r, []byte("\n"))
		sendAll(t, ev, a, "a\nb\n")
		poll(t, req)
		if rec, err := tsocket.ReadUntilRecv(req); string(rec) != "a\n" || err != nil {
			t.Fatalf("ReadUntil = %q, %v", rec, err)
		}
		closeT(t, b)
		buffered(t, ev, r, "\n", "b\n") // still held, as bufio holds it
		if _, err := readRecord(t, ev, r, "\n"); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ReadUntil on a closed stream: %v, want net.ErrClosed", err)
		}
		if _, err := readFull(t, ev, r, 1); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ReadFull on a closed stream: %v, want net.ErrClosed", err)
		}

		_, d := unixPair(t, ev)
		r = tsocket.NewReader(ev, d, 0)
		req = tsocket.ReadUntilSend(ev, r, []byte("\n"))
		closeT(t, d)
		poll(t, req)
		if _, err := tsocket.ReadUntilRecv(req); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ReadUntil in flight at Close: %v, want net.ErrClosed", err)
		}

		// The context closing ends a request in flight without calling back.
		ev2 := newCtx()
		_, e := unixPair(t, ev2)
		req = tsocket.ReadUntilSend(ev2, tsocket.NewReader(ev2, e, 0), []byte("\n"))
		req.SetCallback(func(*tevent.Req[[]byte]) { t.Error("called back after the context closed") })
		if err := ev2.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := tsocket.ReadUntilRecv(req); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("ReadUntil at the context's Close: %v, want tevent.ErrClosed", err)
		}
	})
}

// readerOp is the next read of a fuzz run: n < 0 is a ReadUntilSend, else a
// ReadFullSend of n bytes. Both runs draw it from the same sequence.
func readerOp(rng *rand.Rand, max int) int {
	if rng.IntN(4) != 0 {
		return -1
	}
	return rng.IntN(2*max + 8)
}

// readerResult names a read's outcome for comparison.
func readerResult(kind, got string, err error) string {
	switch {
	case err == nil:
		return kind + " " + got
	case errors.Is(err, tevent.ErrRecordTooLong):
		return kind + " too long"
	}
	return kind + " " + err.Error()
}

// refReads is what RefReader reads of data.
func refReads(data, delim []byte, max int, seed uint64) []string {
	ref := testutil.RefReader{Data: data, Limit: max, TooLong: tsocket.ErrRecordTooLong}
	rng := rand.New(rand.NewPCG(seed, 9))
	var out []string
	for !ref.Ended() {
		if n := readerOp(rng, max); n < 0 {
			rec, err := ref.ReadUntil(delim)
			out = append(out, readerResult("record", rec, err))
		} else {
			p, err := ref.ReadFull(n)
			out = append(out, readerResult("full", p, err))
		}
	}
	return out
}

// readerReads writes data through a socketpair in random chunks and reads
// it with a Reader, on one loop.
func readerReads(t *testing.T, backend string, data, delim []byte, max int, seed uint64) []string {
	ev, err := tevent.NewContext(tevent.WithBackend(backend))
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()

	wrng := rand.New(rand.NewPCG(seed, 7))
	writeChunks(ev, a, data, func() int { return 1 + wrng.IntN(1+wrng.IntN(2*max+64)) }, func() { a.Close() })

	r := tsocket.NewReader(ev, b, max)
	rrng := rand.New(rand.NewPCG(seed, 9))
	var out []string
	var read func()
	next := func(kind, got string, err error) {
		out = append(out, readerResult(kind, got, err))
		if err == nil || errors.Is(err, tevent.ErrRecordTooLong) {
			read()
		}
	}
	read = func() {
		n := readerOp(rrng, max)
		if n < 0 {
			tsocket.ReadUntilSend(ev, r, delim).SetCallback(func(req *tevent.Req[[]byte]) {
				rec, err := tsocket.ReadUntilRecv(req)
				next("record", string(rec), err)
			})
			return
		}
		buf := make([]byte, n)
		tsocket.ReadFullSend(ev, r, buf).SetCallback(func(req *tevent.Req[int]) {
			n, err := tsocket.ReadFullRecv(req)
			next("full", string(buf[:n]), err)
		})
	}
	read()
	if err := ev.LoopWait(); err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzReader writes random input in random chunks to a socketpair and reads
// it back with a Reader, records and counted reads mixed at random,
// comparing every result with testutil.RefReader's.
func FuzzReader(f *testing.F) {
	// Seeds: a CRLF split across writes, overlapping delimiter bytes, a
	// record over the limit and the one after it, a record never ended,
	// literals after their header lines, a partial record at the end.
	f.Add([]byte("a1 NOOP\r\nb2 IDLE\r\nDONE\r\n"), []byte("\r\n"), uint16(100), uint64(1))
	f.Add([]byte("xaaay aa aaa"), []byte("aa"), uint16(3), uint64(2))
	f.Add([]byte("short\nmuch too long for the limit\nok\n"), []byte("\n"), uint16(8), uint64(3))
	f.Add([]byte("ok;no end to this one at all"), []byte(";"), uint16(5), uint64(4))
	f.Add([]byte("BDAT 5\r\nhelloBDAT 3 LAST\r\nbyeQUIT\r\n"), []byte("\r\n"), uint16(40), uint64(5))
	f.Add(bytes.Repeat([]byte("abc;"), 3000), []byte(";"), uint16(1000), uint64(6))
	f.Add([]byte("one\ntw"), []byte("\n"), uint16(10), uint64(7))
	f.Fuzz(func(t *testing.T, data, delim []byte, max uint16, seed uint64) {
		if len(delim) == 0 || len(delim) > 3 || max == 0 || len(data) > 64<<10 {
			return
		}
		want := refReads(data, delim, int(max), seed)
		// Both backends, without subtests: the fuzzing engine copes badly
		// with a target that runs subtests.
		for _, backend := range tevent.Backends() {
			got := readerReads(t, backend, data, delim, int(max), seed)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: reads mismatch (-want +got):\n%s", backend, diff)
			}
		}
	})
}

// BenchmarkReadUntil reads records of 64 bytes from a socketpair, 64 of
// them per 4 KiB write, with a callback chain as a server would: each
// record's callback starts the next ReadUntilSend. An op is one record;
// allocs/record counts every allocation in the loop (the ReadUntilSend's
// Req, and per 64 records the Reader's read on the stream and the
// writer's writev), to two decimals.
func BenchmarkReadUntil(b *testing.B) { benchReadUntil(b, 64) }

// BenchmarkReadUntilSplit is BenchmarkReadUntil with records of 61 bytes,
// so that one straddles every 4 KiB read: when the Reader waits for the
// rest of it, it keeps a copy of its start (record.Buffer.Release).
func BenchmarkReadUntilSplit(b *testing.B) { benchReadUntil(b, 61) }

func benchReadUntil(b *testing.B, recLen int) {
	ev := newBenchCtx(b)
	cli, srv := unixPair(b, ev)
	// The records as one stream, written 4 KiB at a time: 4096 records
	// make a whole number of writes whatever recLen is.
	stream := bytes.Repeat(append(bytes.Repeat([]byte("x"), recLen-2), '\r', '\n'), 4096)
	out := [][]byte{nil}
	writes := 0
	next := func() [][]byte {
		off := writes * 4096 % len(stream)
		out[0] = stream[off : off+4096]
		return out
	}
	var onWrite func(*tevent.Req[int])
	onWrite = func(req *tevent.Req[int]) {
		if _, err := tsocket.WritevRecv(req); err != nil {
			b.Error(err)
			return
		}
		if writes++; writes*4096 < b.N*recLen {
			tsocket.WritevSend(ev, cli, next()).SetCallback(onWrite)
		}
	}
	r := tsocket.NewReader(ev, srv, 0)
	delim := []byte("\r\n")
	records := 0
	var onRecord func(*tevent.Req[[]byte])
	onRecord = func(req *tevent.Req[[]byte]) {
		rec, err := tsocket.ReadUntilRecv(req)
		if err != nil || len(rec) != recLen {
			b.Errorf("record %d: %d bytes, %v", records, len(rec), err)
			return
		}
		if records++; records < b.N {
			tsocket.ReadUntilSend(ev, r, delim).SetCallback(onRecord)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	b.SetBytes(int64(recLen))
	b.ResetTimer()
	tsocket.WritevSend(ev, cli, next()).SetCallback(onWrite)
	tsocket.ReadUntilSend(ev, r, delim).SetCallback(onRecord)
	if err := ev.LoopUntil(func() bool { return records >= b.N || b.Failed() }); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs/record")
}
