package tests

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
	"github.com/gotevent/gotevent/tsocket"
	"go.uber.org/goleak"
)

// heapSlack is how far the heap in use may end above its baseline. A leak of
// one pointer-sized word per cycle over the short form's 100 000 cycles is
// 800 KB, well above it; the collector's own noise is a few tens of KB.
const heapSlack = 256 << 10

// TestSoakRequestAndTimerCycles runs 1 000 000 (100 000 in the short form)
// request create/abandon cycles, as many create/cancel cycles, and as many
// timers armed and cancelled, on each backend, and checks that the heap in
// use (live objects after a full collection) comes back to its baseline,
// measured after a warm-up round that let every reused buffer grow to its
// working size; and that no goroutine is left.
//
// The abandoned requests are of every kind that holds something: a
// composed request with an end time, a cleanup function and a subrequest; a
// readv waiting on a socket (an fd event); a queued writev waiting behind a
// blocker (a queue entry); an accept waiting on a listener. The cancelled
// ones are WakeupSend requests (a timer) and composed requests whose cancel
// function is honoured. Up to a thousand timers are armed at once, some
// reset before they are cancelled.
func TestSoakRequestAndTimerCycles(t *testing.T) {
	cycles := 100_000
	if _, long := soakLength(t); long {
		cycles = 1_000_000
	}
	forEachBackend(t, func(t *testing.T, backend string) {
		testutil.NoFDLeak(t)
		ev := ctxOn(t, backend)
		far := ev.Now().Add(24 * time.Hour)
		a, b := streamsOf(t, ev, "unix")
		l, err := tsocket.Listen(ev, loopbackAny(t))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		q := tqueue.New(ev, "blocked")
		blocker := tevent.NewReq[struct{}](ev)
		q.Add(blocker, nil)
		defer blocker.Abandon()

		// settle runs the loop until everything queued for it so far (the
		// deferred removals and the like) has run.
		settle := func() {
			done := false
			ev.ScheduleImmediate(func() { done = true })
			runUntil(t, ev, "the loop to settle", func() bool { return done })
		}
		cleaned := 0
		abandon := func(i int) {
			switch i % 4 {
			case 0:
				req := tevent.NewReq[int](ev)
				req.SetEndTime(far)
				req.SetCleanupFn(func(st tevent.State) {
					if st == tevent.StateReceived {
						cleaned++
					}
				})
				req.AddSubreq(tevent.WakeupSend(ev, far))
				req.SetCallback(func(*tevent.Req[int]) { t.Error("abandoned request called back") })
				req.Abandon()
			case 1:
				req := tsocket.ReadvSend(ev, b, [][]byte{make([]byte, 16)})
				if !req.IsInProgress() {
					t.Fatal("readv on an idle socket finished")
				}
				req.Abandon()
			case 2:
				req := tsocket.WritevQueueSend(ev, a, q, [][]byte{[]byte("never")})
				req.Abandon()
			case 3:
				req := tsocket.AcceptSend(ev, l)
				req.Abandon()
			}
		}
		cancel := func(i int) {
			switch i % 2 {
			case 0:
				req := tevent.WakeupSend(ev, far)
				if !req.Cancel() {
					t.Fatal("WakeupSend declined Cancel")
				}
				if err := tevent.WakeupRecv(req); !errors.Is(err, tevent.ErrCancelled) {
					t.Fatalf("cancelled wakeup: %v", err)
				}
			case 1:
				req := tevent.NewReq[int](ev)
				sub := tevent.WakeupSend(ev, far)
				req.AddSubreq(sub)
				req.SetEndTime(far)
				req.SetCancelFn(func() bool { return sub.Cancel() })
				if !req.Cancel() {
					t.Fatal("Cancel declined")
				}
				if _, err := req.Recv(); !errors.Is(err, tevent.ErrCancelled) {
					t.Fatalf("cancelled request: %v", err)
				}
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		var armed []*tevent.Timer
		timer := func(i int) {
			te := ev.AddTimer(ev.Now().Add(time.Hour+time.Duration(rng.IntN(1e6))), func(*tevent.Timer, time.Time) {
				t.Error("a cancelled timer ran")
			})
			if i%3 == 0 {
				te.Reset(far.Add(time.Duration(rng.IntN(1e6))))
			}
			armed = append(armed, te)
			if len(armed) == 1000 {
				for _, te := range armed {
					if !te.Cancel() {
						t.Fatal("an armed timer was not pending")
					}
				}
				armed = armed[:0]
			}
		}

		for _, phase := range []struct {
			name string
			fn   func(int)
		}{{"abandon", abandon}, {"cancel", cancel}, {"timers", timer}} {
			// Warm-up, then the baseline.
			for i := range 4000 {
				phase.fn(i)
			}
			settle()
			base := heapObjectsBytes()
			for i := range cycles {
				phase.fn(i)
				if i%1000 == 999 {
					settle()
				}
			}
			settle()
			after := heapObjectsBytes()
			t.Logf("%s: %d cycles, heap in use %d KiB before, %d KiB after", phase.name, cycles, base>>10, after>>10)
			if after > base+heapSlack {
				t.Errorf("%s: heap in use grew from %d to %d bytes over %d cycles: something is kept per cycle",
					phase.name, base, after, cycles)
			}
		}
		if want := (4000 + cycles) / 4; cleaned != want {
			t.Errorf("%d abandoned requests ran their cleanup, want %d", cleaned, want)
		}
		if q.Len() != 1 {
			t.Errorf("queue holds %d entries, want only the blocker", q.Len())
		}
		blocker.Abandon()
		l.Close()
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		goleak.VerifyNone(t)
	})
}
