package tests

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// prng returns n pseudo-random bytes determined by seed.
func prng(n int, seed uint64) []byte {
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
	}
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

func isResetOrPipe(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// A peer that resets the connection while a writev is part-way through (the
// peer has read some of it, the rest fills the socket buffers) fails that
// writev with ECONNRESET or EPIPE, raises no SIGPIPE, and leaves the loop
// serving other connections. TCP peers reset with SO_LINGER 0; a unix peer
// just closes, which the writer sees as EPIPE.
func TestFaultPeerResetMidWrite(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		for _, network := range []string{"tcp", "unix"} {
			t.Run(network, func(t *testing.T) {
				testutil.NoFDLeak(t)
				noSIGPIPE(t)
				ev := ctxOn(t, backend)
				a, b := streamsOf(t, ev, network)
				c, d := streamsOf(t, ev, network) // a bystander

				const size = 16 << 20
				data := prng(size, 1)
				w := tsocket.WritevSend(ev, a, [][]byte{data[:size/2], data[size/2:]})
				if !w.IsInProgress() {
					t.Fatal("16 MiB fitted into the socket buffers")
				}
				// The peer reads the first 64 KiB, so the write is truly
				// under way, then resets.
				head := make([]byte, 64<<10)
				r := tsocket.ReadvSend(ev, b, [][]byte{head})
				waitFor(t, ev, "the peer's first read", r)
				if _, err := tsocket.ReadvRecv(r); err != nil {
					t.Fatalf("peer read: %v", err)
				}
				if !bytes.Equal(head, data[:len(head)]) {
					t.Fatal("the peer read the wrong bytes")
				}
				if !w.IsInProgress() {
					t.Fatal("the writev finished before the reset")
				}
				if network == "tcp" {
					setLinger0(t, b.Fd())
				}
				if err := b.Close(); err != nil {
					t.Fatal(err)
				}
				waitFor(t, ev, "the writev to fail", w)
				if _, err := tsocket.WritevRecv(w); !isResetOrPipe(err) {
					t.Fatalf("writev to a reset peer: %v, want ECONNRESET or EPIPE", err)
				}

				// The broken stream fails further requests at once instead of
				// hanging: a writev with an error, a readv with an error or EOF.
				w2 := tsocket.WritevSend(ev, a, [][]byte{[]byte("more")})
				r2 := tsocket.ReadvSend(ev, a, [][]byte{make([]byte, 1)})
				runUntil(t, ev, "requests on the broken stream", func() bool { return !w2.IsInProgress() && !r2.IsInProgress() })
				if _, err := tsocket.WritevRecv(w2); !isResetOrPipe(err) {
					t.Errorf("second writev: %v, want ECONNRESET or EPIPE", err)
				}
				if _, err := tsocket.ReadvRecv(r2); err == nil {
					t.Errorf("readv on a reset stream succeeded")
				}
				if err := a.Close(); err != nil {
					t.Errorf("Close of the reset stream: %v", err)
				}

				// The loop still serves the bystander, both ways.
				transferCheck(t, ev, c, d, 1<<20)
				transferCheck(t, ev, d, c, 1<<10)

				// Nothing is left registered: the idle bystander holds no
				// event, so LoopWait returns.
				if err := ev.LoopWait(); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// transferCheck sends n random bytes from one stream to the other through ev
// and checks they arrive intact.
func transferCheck(t testing.TB, ev *tevent.Context, from, to *tsocket.Stream, n int) {
	t.Helper()
	data := prng(n, uint64(n))
	got := make([]byte, n)
	w := tsocket.WritevSend(ev, from, [][]byte{data})
	r := tsocket.ReadvSend(ev, to, [][]byte{got})
	runUntil(t, ev, "a transfer", func() bool { return !w.IsInProgress() && !r.IsInProgress() })
	if _, err := tsocket.WritevRecv(w); err != nil {
		t.Fatalf("writev: %v", err)
	}
	if _, err := tsocket.ReadvRecv(r); err != nil {
		t.Fatalf("readv: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("transfer corrupted")
	}
}

// The same fault through the callback-mask API: an IOWrite under way to a
// peer that resets fails with ECONNRESET or EPIPE (MaskEvent.Write uses
// MSG_NOSIGNAL), and a second mask event on the same loop keeps working.
func TestFaultPeerResetMidWriteMask(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		testutil.NoFDLeak(t)
		noSIGPIPE(t)
		fds := newRawFDs(t)
		ev := ctxOn(t, backend)
		a, b := fds.tcp(t)
		c, d := fds.tcp(t)

		data := prng(16<<20, 2)
		var st tevent.IOState
		var res tevent.IOResult
		writer := ev.BuildFDEvent(a, tevent.FDWrite, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
			if res = e.IOWrite(data, &st); res == tevent.IOPending {
				return st.Need
			}
			return 0
		}, nil)
		if err := ev.ScheduleEvent(writer); err != nil {
			t.Fatal(err)
		}
		// Let the writer fill the buffers; the peer reads 64 KiB first.
		head := make([]byte, 64<<10)
		got := 0
		reader := ev.BuildFDEvent(b, tevent.FDRead, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
			n, need, err := e.Read(head[got:])
			if err == unix.EAGAIN {
				return need
			}
			if err != nil {
				t.Errorf("peer read: %v", err)
				return 0
			}
			got += n
			if got < len(head) {
				return tevent.FDRead
			}
			return 0
		}, nil)
		if err := ev.ScheduleEvent(reader); err != nil {
			t.Fatal(err)
		}
		runUntil(t, ev, "the peer's first 64 KiB", func() bool { return got == len(head) })
		if res != tevent.IOPending || st.Done < len(head) {
			t.Fatalf("writer: %v after %d bytes, want pending past %d", res, st.Done, len(head))
		}
		setLinger0(t, b)
		fds.close(t, b)
		runUntil(t, ev, "the mask writer to fail", func() bool { return res != tevent.IOPending })
		if res != tevent.IOFailed || !isResetOrPipe(st.Err) {
			t.Fatalf("IOWrite to a reset peer: %v, %v; want IOFailed with ECONNRESET or EPIPE", res, st.Err)
		}

		// A second pair on the same loop: a ping through mask events.
		var pingSt, pongSt tevent.IOState
		ping, pong := []byte("ping\n"), make([]byte, 5)
		pingDone, pongDone := false, false
		w := ev.BuildFDEvent(c, tevent.FDWrite, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
			switch e.IOWrite(ping, &pingSt) {
			case tevent.IOPending:
				return pingSt.Need
			case tevent.IOFailed:
				t.Errorf("bystander write: %v", pingSt.Err)
			}
			pingDone = true
			return 0
		}, nil)
		r := ev.BuildFDEvent(d, tevent.FDRead, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
			switch e.IORead(pong, &pongSt) {
			case tevent.IOPending:
				return pongSt.Need
			case tevent.IOFailed:
				t.Errorf("bystander read: %v", pongSt.Err)
			}
			pongDone = true
			return 0
		}, nil)
		if err := errors.Join(ev.ScheduleEvent(w), ev.ScheduleEvent(r)); err != nil {
			t.Fatal(err)
		}
		runUntil(t, ev, "the bystander", func() bool { return pingDone && pongDone })
		if string(pong) != "ping\n" {
			t.Fatalf("bystander got %q", pong)
		}
		if err := ev.LoopWait(); err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
	})
}
