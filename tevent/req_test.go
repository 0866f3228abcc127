package tevent_test

import (
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/tevent"
)

// doubleSend is a composed request: two wakeups in a row, then the sum of
// their delays. It is written the Samba way, with subreq and xxxDone steps.
func doubleSend(ev *tevent.Context, d time.Duration) *tevent.Req[time.Duration] {
	req := tevent.NewReq[time.Duration](ev)
	start := ev.Now()
	subreq := tevent.WakeupSend(ev, start.Add(d))
	req.AddSubreq(subreq)
	subreq.SetCallback(func(subreq *tevent.Req[struct{}]) {
		if req.Error(tevent.WakeupRecv(subreq)) {
			return
		}
		subreq2 := tevent.WakeupSend(ev, ev.Now().Add(d))
		req.AddSubreq(subreq2)
		subreq2.SetCallback(func(subreq2 *tevent.Req[struct{}]) {
			if req.Error(tevent.WakeupRecv(subreq2)) {
				return
			}
			req.Done(ev.Now().Sub(start))
		})
	})
	return req
}

func TestReqComposedWithFakeClock(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		req := doubleSend(ev, time.Hour)
		if err := req.Poll(); err != nil {
			t.Fatal(err)
		}
		got, err := req.Recv()
		if err != nil || got != 2*time.Hour {
			t.Fatalf("Recv = %v, %v; want 2h, nil", got, err)
		}
		if req.State() != tevent.StateReceived {
			t.Fatalf("State after Recv = %v", req.State())
		}
	})
}

func TestReqDoneRunsCallbackInsideCall(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		req := tevent.NewReq[int](ev)
		called := 0
		req.SetCallback(func(r *tevent.Req[int]) {
			called++
			v, err := r.Recv()
			if v != 7 || err != nil {
				t.Errorf("Recv = %v, %v", v, err)
			}
		})
		if !req.IsInProgress() || req.State() != tevent.StateInProgress {
			t.Fatal("new request not in progress")
		}
		if _, err := req.Recv(); !errors.Is(err, tevent.ErrInProgress) {
			t.Fatalf("Recv in progress = %v, want ErrInProgress", err)
		}
		req.Done(7)
		if called != 1 {
			t.Fatalf("callback ran %d times inside Done, want 1", called)
		}
	})
}

func TestReqErrorIdiom(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		req := tevent.NewReq[int](ev)
		if req.Error(nil) {
			t.Fatal("Error(nil) = true")
		}
		if !req.IsInProgress() {
			t.Fatal("Error(nil) finished the request")
		}
		if !req.Error(syscall.ECONNRESET) {
			t.Fatal("Error(err) = false")
		}
		if req.State() != tevent.StateError {
			t.Fatalf("State = %v", req.State())
		}
		if _, err := req.Recv(); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("Recv = %v", err)
		}
	})
}

func TestReqPostNeverCallsBackInsideSend(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		// A Send that finishes at once, as Samba's `return tevent_req_post(req, ev)`.
		send := func() *tevent.Req[string] {
			req := tevent.NewReq[string](ev)
			req.Done("early")
			return req.Post()
		}
		req := send()
		got := ""
		req.SetCallback(func(r *tevent.Req[string]) { got, _ = r.Recv() })
		if got != "" {
			t.Fatal("callback ran before the caller set it")
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if got != "early" {
			t.Fatalf("posted callback delivered %q", got)
		}
	})
}

func TestReqDeferCallback(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		req := tevent.NewReq[int](ev)
		calls := 0
		req.SetCallback(func(*tevent.Req[int]) { calls++ })
		req.DeferCallback()
		req.Done(1)
		if calls != 0 {
			t.Fatal("deferred callback ran inside Done")
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if calls != 1 {
			t.Fatalf("deferred callback ran %d times", calls)
		}
	})
}

func TestReqEndTime(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		clock := tevent.NewFakeClock(epoch)
		ev := newCtx(tevent.WithClock(clock))
		slow := tevent.WakeupSend(ev, epoch.Add(time.Hour))
		if !slow.SetEndTime(epoch.Add(time.Minute)) {
			t.Fatal("SetEndTime on a request in progress = false")
		}
		if err := slow.Poll(); err != nil {
			t.Fatal(err)
		}
		if slow.State() != tevent.StateTimedOut {
			t.Fatalf("State = %v, want timed out", slow.State())
		}
		err := tevent.WakeupRecv(slow)
		if !errors.Is(err, tevent.ErrTimedOut) || !errors.Is(err, syscall.ETIMEDOUT) {
			t.Fatalf("WakeupRecv = %v, want ErrTimedOut", err)
		}
		if got := clock.Now(); !got.Equal(epoch.Add(time.Minute)) {
			t.Fatalf("timed out at %v", got)
		}
		if slow.SetEndTime(epoch.Add(time.Hour)) {
			t.Fatal("SetEndTime on a received request = true")
		}
		// The wakeup's own timer went with it: nothing is left.
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce after timeout = %v, want ErrNoEvents", err)
		}

		// A request that finishes first is not timed out later.
		fast := tevent.WakeupSend(ev, clock.Now().Add(time.Second))
		fast.SetEndTime(clock.Now().Add(time.Minute))
		if err := fast.Poll(); err != nil {
			t.Fatal(err)
		}
		if err := tevent.WakeupRecv(fast); err != nil {
			t.Fatalf("fast request = %v", err)
		}
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("end timer left armed after Done: LoopOnce = %v", err)
		}
	})
}

func TestReqCancel(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		plain := tevent.NewReq[int](ev)
		if plain.Cancel() {
			t.Fatal("Cancel without a cancel function = true")
		}
		declines := tevent.NewReq[int](ev)
		declines.SetCancelFn(func() bool { return false })
		if declines.Cancel() || !declines.IsInProgress() {
			t.Fatal("a declining cancel function still cancelled")
		}

		req := tevent.WakeupSend(ev, epoch.Add(time.Hour))
		called := false
		req.SetCallback(func(*tevent.Req[struct{}]) { called = true })
		if !req.Cancel() {
			t.Fatal("Cancel of a wakeup = false")
		}
		if !called {
			t.Fatal("cancelled request did not call back")
		}
		err := tevent.WakeupRecv(req)
		if !errors.Is(err, tevent.ErrCancelled) || !errors.Is(err, syscall.ECANCELED) {
			t.Fatalf("WakeupRecv after Cancel = %v", err)
		}
		if req.Cancel() {
			t.Fatal("Cancel of a finished request = true")
		}
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("cancelled wakeup left its timer: LoopOnce = %v", err)
		}
	})
}

func TestReqCleanupOrder(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		var got []string
		record := func(name string) func(tevent.State) {
			return func(s tevent.State) { got = append(got, name+":"+s.String()) }
		}
		done := tevent.NewReq[int](ev)
		done.SetCleanupFn(record("done"))
		done.Done(1)
		done.Recv()
		done.Recv() // a second Recv runs nothing again

		failed := tevent.NewReq[int](ev)
		failed.SetCleanupFn(record("failed"))
		failed.Error(errors.New("boom"))
		failed.Abandon() // released without Recv: cleanup with received

		timed := tevent.NewReq[int](ev)
		timed.SetCleanupFn(record("timed"))
		timed.SetEndTime(epoch)
		if err := timed.Poll(); err != nil {
			t.Fatal(err)
		}
		timed.Recv()

		abandoned := tevent.NewReq[int](ev)
		abandoned.SetCleanupFn(record("abandoned"))
		abandoned.Abandon()
		abandoned.Abandon()

		want := []string{
			"done:done", "done:received",
			"failed:error", "failed:received",
			"timed:timed out", "timed:received",
			"abandoned:received",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("cleanup calls mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestReqAbandon(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		req := doubleSend(ev, time.Second)
		req.SetEndTime(epoch.Add(time.Hour))
		req.SetCallback(func(*tevent.Req[time.Duration]) { t.Error("abandoned request called back") })
		req.Abandon()
		if req.State() != tevent.StateReceived || !req.Abandoned() {
			t.Fatalf("State after Abandon = %v", req.State())
		}
		// Done after Abandon (a late completion) is ignored, not a panic.
		req.Done(time.Second)
		if !req.Error(errors.New("late")) {
			t.Fatal("Error(err) on an abandoned request must still report true")
		}
		// The subrequest's timer and the end-time timer are gone.
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("abandoned request left events behind: LoopOnce = %v", err)
		}
	})
}

func TestReqAbandonWithPostedCallback(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		req := tevent.NewReq[int](ev)
		req.Done(1)
		req.Post()
		req.SetCallback(func(*tevent.Req[int]) { t.Error("callback after Abandon") })
		req.Abandon()
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestReqFinishTwicePanics(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		for _, second := range []func(*tevent.Req[int]){
			func(r *tevent.Req[int]) { r.Done(2) },
			func(r *tevent.Req[int]) { r.Error(errors.New("x")) },
		} {
			req := tevent.NewReq[int](ev)
			req.Done(1)
			func() {
				defer func() {
					msg, _ := recover().(string)
					if !strings.Contains(msg, "finishes once") {
						t.Errorf("second finish: panic %q, want a clear message", msg)
					}
				}()
				second(req)
			}()
		}
	})
}

func TestReqSubreqReleasedWithParent(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		parent := tevent.NewReq[int](ev)
		a := tevent.WakeupSend(ev, epoch.Add(time.Second))
		b := tevent.WakeupSend(ev, epoch.Add(time.Hour))
		parent.AddSubreq(a)
		parent.AddSubreq(b)
		a.SetCallback(func(a *tevent.Req[struct{}]) {
			if parent.Error(tevent.WakeupRecv(a)) {
				return
			}
			parent.Done(1) // b is still running: finishing releases it
		})
		b.SetCallback(func(*tevent.Req[struct{}]) { t.Error("released subrequest called back") })
		if err := parent.Poll(); err != nil {
			t.Fatal(err)
		}
		if !b.Abandoned() {
			t.Fatal("in-flight subrequest not abandoned when its parent finished")
		}
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce = %v, want ErrNoEvents", err)
		}
	})
}

type hookRecorder struct{ n int }

func (h *hookRecorder) RequestReleased(tevent.Request) { h.n++ }

func TestReqReleaseHooks(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		var h1, h2 hookRecorder
		req := tevent.NewReq[int](ev)
		var r tevent.Request = req
		r.AddReleaseHook(&h1)
		r.AddReleaseHook(&h2)
		req.Done(1)
		if h1.n != 0 {
			t.Fatal("release hook ran at Done, before Recv")
		}
		req.Recv()
		req.Recv()
		if h1.n != 1 || h2.n != 1 {
			t.Fatalf("release hooks ran %d and %d times, want 1 each", h1.n, h2.n)
		}
		var late hookRecorder
		req.AddReleaseHook(&late)
		if late.n != 1 {
			t.Fatal("hook added after release not told at once")
		}
	})
}

func TestPollNoEvents(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		req := tevent.NewReq[int](ev)
		if err := req.Poll(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("Poll of a request nothing can finish = %v, want ErrNoEvents", err)
		}
	})
}

// A long-lived request that starts and receives one subrequest per message
// does not hold on to them all.
func TestReqAddSubreqForgetsReceived(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		parent := tevent.NewReq[int](ev)
		var live *tevent.Req[int]
		for i := range 10000 {
			sub := tevent.NewReq[int](ev)
			parent.AddSubreq(sub)
			sub.Done(i)
			sub.Recv()
			if i == 9999 {
				live = tevent.NewReq[int](ev)
				parent.AddSubreq(live)
			}
		}
		if n := tevent.Subreqs(parent); n > 8 {
			t.Fatalf("parent holds %d subrequests after 10000 were received", n)
		}
		parent.Abandon()
		if !live.Abandoned() {
			t.Fatal("the live subrequest was lost by the pruning")
		}
	})
}

// A request stays small: a server holds one in flight per connection.
func TestReqSize(t *testing.T) {
	if tevent.ReqSize > 96 {
		t.Errorf("Req[int] is %d bytes; keep it at 96 or less", tevent.ReqSize)
	}
}
