package tqueue_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
)

// TestBelowImmediate: a BelowSend whose threshold Len already meets is
// finished at once, and calls back on a later turn, not inside the call.
func TestBelowImmediate(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q", tqueue.WithLimit(2))
		fill(t, ev, q, 1)
		var log []string
		for _, n := range []int{1, 5} {
			req := tqueue.BelowSend(ev, q, n)
			log = append(log, fmt.Sprintf("below %d: %v", n, req.State()))
			req.SetCallback(func(req *tevent.Req[struct{}]) {
				log = append(log, fmt.Sprintf("below %d called back: %v", n, tqueue.BelowRecv(req)))
			})
		}
		loopWait(t, ev)
		want := []string{"below 1: done", "below 5: done", "below 1 called back: <nil>", "below 5 called back: <nil>"}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
		if got := tqueue.BelowWaiters(q); got != 0 {
			t.Fatalf("%d waiters remembered, want 0", got)
		}
	})
}

// TestBelowDeferred: a waiter finishes on the turn after an entry leaves
// and brings Len down to its threshold, not inside the Recv that made
// room; it does not count in Len.
func TestBelowDeferred(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q", tqueue.WithLimit(3))
		held := fill(t, ev, q, 3)
		called := false
		req := tqueue.BelowSend(ev, q, 1)
		req.SetCallback(func(req *tevent.Req[struct{}]) {
			called = true
			if err := tqueue.BelowRecv(req); err != nil || q.Len() != 1 {
				t.Errorf("BelowRecv = %v with Len %d; want nil with 1", err, q.Len())
			}
		})
		if q.Len() != 3 || !req.IsInProgress() {
			t.Fatalf("Len %d, state %v; want 3, in progress", q.Len(), req.State())
		}
		if err := tqueue.BelowRecv(req); !errors.Is(err, tevent.ErrInProgress) {
			t.Fatalf("BelowRecv while waiting = %v, want ErrInProgress", err)
		}
		held[2].Abandon()
		loopWait(t, ev)
		if called || !req.IsInProgress() {
			t.Fatal("finished at Len 2, threshold 1")
		}
		held[0].Done(0)
		if _, err := held[0].Recv(); err != nil {
			t.Fatal(err)
		}
		if called {
			t.Fatal("called back inside the Recv that made room")
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if !called {
			t.Fatal("not called back on the turn after Len reached 1")
		}
		if got := tqueue.BelowWaiters(q); got != 0 {
			t.Fatalf("%d waiters remembered, want 0", got)
		}
	})
}

// TestBelowManyWaiters: waiters with different thresholds finish as Len
// falls to each, highest first, and in the order made among equal ones;
// one whose callback receives an entry lets the next go in the same turn.
func TestBelowManyWaiters(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		q := tqueue.New(ev, "q")
		held := fill(t, ev, q, 6)
		var log []string
		logf := clockLogf(ev, &log)
		for i, n := range []int{1, 4, 4, 0, 2, 3} {
			tqueue.BelowSend(ev, q, n).SetCallback(func(req *tevent.Req[struct{}]) {
				logf("waiter %d (<= %d) at len %d", i, n, q.Len())
				if err := tqueue.BelowRecv(req); err != nil {
					t.Errorf("waiter %d: %v", i, err)
				}
				if n == 3 { // make room for the next one at once
					held[2].Abandon()
				}
			})
		}
		for i, req := range held {
			if i != 2 {
				at(ev, time.Duration(i+1)*time.Second, req.Abandon)
			}
		}
		loopWait(t, ev)
		want := []string{
			"2s waiter 1 (<= 4) at len 4",
			"2s waiter 2 (<= 4) at len 4",
			"4s waiter 5 (<= 3) at len 3",
			"4s waiter 4 (<= 2) at len 2",
			"5s waiter 0 (<= 1) at len 1",
			"6s waiter 3 (<= 0) at len 0",
		}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestBelowProducers: two producers wait for room in a full queue; the
// first one's callback fills it again, so the second waits on until more
// room is made, and neither is ever refused with ErrFull.
func TestBelowProducers(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		const limit = 2
		q := tqueue.New(ev, "q", tqueue.WithLimit(limit))
		held := fill(t, ev, q, limit)
		var log []string
		logf := clockLogf(ev, &log)
		for _, name := range []string{"a", "b"} {
			tqueue.BelowSend(ev, q, limit-1).SetCallback(func(req *tevent.Req[struct{}]) {
				if err := tqueue.BelowRecv(req); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				more := tevent.NewReq[int](ev)
				if q.Add(more, nil) == nil {
					t.Errorf("%s: Add refused after BelowSend", name)
				}
				held = append(held, more)
				logf("%s adds, len %d", name, q.Len())
			})
		}
		at(ev, time.Second, held[0].Abandon)
		at(ev, 2*time.Second, held[1].Abandon)
		loopWait(t, ev)
		want := []string{"1s a adds, len 2", "2s b adds, len 2"}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestBelowGivesUp: a waiter abandoned, timed out or cancelled is
// forgotten at once: an abandoned one never calls back, the others call
// back once with their error, and none calls back again when room is made.
func TestBelowGivesUp(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		q := tqueue.New(ev, "q")
		held := fill(t, ev, q, 1)
		var log []string
		logf := clockLogf(ev, &log)
		waiter := func(name string) *tevent.Req[struct{}] {
			req := tqueue.BelowSend(ev, q, 0)
			req.SetCallback(func(req *tevent.Req[struct{}]) {
				err := tqueue.BelowRecv(req)
				logf("%s: timed out %v, cancelled %v, waiters %d", name,
					errors.Is(err, tevent.ErrTimedOut), errors.Is(err, tevent.ErrCancelled), tqueue.BelowWaiters(q))
			})
			return req
		}
		abandoned := waiter("abandoned")
		waiter("impatient").SetEndTime(epoch.Add(time.Second))
		cancelled := waiter("cancelled")
		waiter("patient")
		at(ev, 500*time.Millisecond, func() {
			abandoned.Abandon()
			logf("abandoned, waiters %d", tqueue.BelowWaiters(q))
		})
		at(ev, 2*time.Second, func() { logf("cancel: %v", cancelled.Cancel()) })
		at(ev, 3*time.Second, held[0].Abandon)
		loopWait(t, ev)
		if cancelled.Cancel() {
			t.Error("Cancel of a received waiter reported true")
		}
		want := []string{
			"500ms abandoned, waiters 3",
			"1s impatient: timed out true, cancelled false, waiters 2",
			"2s cancelled: timed out false, cancelled true, waiters 1",
			"2s cancel: true",
			"3s patient: timed out false, cancelled false, waiters 0",
		}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestBelowNegative: a negative threshold fails with an error wrapping
// EINVAL, through Post.
func TestBelowNegative(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		var got error
		req := tqueue.BelowSend(ev, q, -1)
		req.SetCallback(func(req *tevent.Req[struct{}]) { got = tqueue.BelowRecv(req) })
		loopWait(t, ev)
		if !errors.Is(got, syscall.EINVAL) {
			t.Fatalf("BelowRecv = %v, want an error wrapping EINVAL", got)
		}
		if tqueue.BelowWaiters(q) != 0 {
			t.Fatal("a refused waiter is remembered")
		}
	})
}

// TestBelowClosedContext: a waiter pending at Close never calls back, even
// when room is made afterwards, and can still be abandoned; BelowSend after
// Close fails with ErrClosed without calling back.
func TestBelowClosedContext(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		held := fill(t, ev, q, 2)
		noCallback := func(*tevent.Req[struct{}]) { t.Error("callback ran after Close") }
		pending := tqueue.BelowSend(ev, q, 1)
		pending.SetCallback(noCallback)
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		held[0].Abandon()
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("LoopOnce after Close = %v, want ErrClosed", err)
		}
		pending.Abandon()
		if tqueue.BelowWaiters(q) != 0 {
			t.Fatal("an abandoned waiter is remembered")
		}
		late := tqueue.BelowSend(ev, q, 5)
		late.SetCallback(noCallback)
		if err := tqueue.BelowRecv(late); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("BelowSend after Close: BelowRecv = %v, want ErrClosed", err)
		}
	})
}
