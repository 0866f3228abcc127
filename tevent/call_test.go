package tevent_test

import (
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/tevent"
)

// loopOnGoroutine runs target's loop on a goroutine of its own, which then
// owns target, until stop is called or the test ends: stop closes target
// and waits for the loop to return.
func loopOnGoroutine(t *testing.T, target *tevent.Context) (stop func()) {
	t.Helper()
	keepAlive(t, target)
	done := make(chan error, 1)
	go func() { done <- target.LoopWait() }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := target.Close(); err != nil {
				t.Errorf("Close target: %v", err)
			}
			// ErrClosed: Close came before the goroutine entered its loop.
			if err := <-done; err != nil && !errors.Is(err, tevent.ErrClosed) {
				t.Errorf("target LoopWait = %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// twoLoops makes ev, made with evOpts and driven by the test's goroutine,
// and target, whose loop runs on a goroutine of its own until the test
// ends.
func twoLoops(t *testing.T, newCtx func(...tevent.Option) *tevent.Context, evOpts ...tevent.Option) (ev, target *tevent.Context) {
	t.Helper()
	ev, target = newCtx(evOpts...), newCtx()
	loopOnGoroutine(t, target)
	return ev, target
}

// gate holds a function on target's loop until the test opens it; it is
// opened at cleanup too, so a failing test does not leave target's loop
// stuck. Make it after loopOnGoroutine, so that it opens before the loop
// is stopped.
type gate struct {
	once sync.Once
	c    chan struct{}
}

func newGate(t *testing.T) *gate {
	g := &gate{c: make(chan struct{})}
	t.Cleanup(g.open)
	return g
}

func (g *gate) open() { g.once.Do(func() { close(g.c) }) }
func (g *gate) wait() { <-g.c }

// slowCall sends a call whose fn closes started and then waits for g.
func slowCall(ev, target *tevent.Context, g *gate, v int) (req *tevent.Req[int], started <-chan struct{}) {
	ch := make(chan struct{})
	req = tevent.CallSend(ev, target, func() (int, error) {
		close(ch)
		g.wait()
		return v, nil
	})
	return req, ch
}

// pollCall drives ev until req has finished and returns its result.
func pollCall[T any](t *testing.T, req *tevent.Req[T]) (T, error) {
	t.Helper()
	if err := req.Poll(); err != nil {
		t.Fatalf("Poll: %v", err)
	}
	return tevent.CallRecv(req)
}

// flushCalls makes one more call from ev to target and waits for it: calls
// come back in order, so every earlier result has reached ev by then.
func flushCalls(t *testing.T, ev, target *tevent.Context) {
	t.Helper()
	marker := tevent.CallSend(ev, target, func() (int, error) { return 2, nil })
	if v, err := pollCall(t, marker); v != 2 || err != nil {
		t.Fatalf("marker CallRecv = %v, %v; want 2, nil", v, err)
	}
}

func TestCallSendRunsOnTargetInOrder(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := twoLoops(t, newCtx)
		calls := 0 // target's: only fn, on target's loop, touches it
		const n = 50
		var got []int
		for i := range n {
			req := tevent.CallSend(ev, target, func() (int, error) {
				calls++
				return calls*1000 + i, nil
			})
			req.SetCallback(func(req *tevent.Req[int]) {
				v, err := tevent.CallRecv(req)
				if err != nil {
					t.Errorf("CallRecv: %v", err)
				}
				got = append(got, v)
			})
		}
		if len(got) != 0 {
			t.Fatalf("%d callbacks ran inside CallSend", len(got))
		}
		// Nothing else is registered on ev: the calls in flight keep it
		// waiting.
		if err := ev.LoopUntil(func() bool { return len(got) == n }); err != nil {
			t.Fatal(err)
		}
		var want []int
		for i := range n {
			want = append(want, (i+1)*1000+i)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("results mismatch (-want +got):\n%s", diff)
		}
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce after every call came back = %v, want ErrNoEvents", err)
		}
	})
}

func TestCallSendError(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := twoLoops(t, newCtx)
		req := tevent.CallSend(ev, target, func() (string, error) {
			return "partial", syscall.ENOENT
		})
		v, err := pollCall(t, req)
		if !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("CallRecv = %q, %v; want ENOENT", v, err)
		}
	})
}

func TestCallSendSameContext(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		ran, called := false, false
		req := tevent.CallSend(ev, ev, func() (string, error) {
			ran = true
			return "here", nil
		})
		req.SetCallback(func(*tevent.Req[string]) { called = true })
		if ran || called {
			t.Fatalf("inside CallSend: fn ran %v, callback ran %v; want neither", ran, called)
		}
		v, err := pollCall(t, req)
		if v != "here" || err != nil || !called {
			t.Fatalf("CallRecv = %q, %v, callback ran %v; want here, nil, true", v, err, called)
		}
	})
}

func TestCallSendBadArguments(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		ran := false
		fn := func() (int, error) { ran = true; return 1, nil }
		for name, send := range map[string]func() *tevent.Req[int]{
			"nil fn":     func() *tevent.Req[int] { return tevent.CallSend[int](ev, ev, nil) },
			"nil target": func() *tevent.Req[int] { return tevent.CallSend(ev, nil, fn) },
		} {
			req := send()
			called := false
			req.SetCallback(func(*tevent.Req[int]) { called = true })
			if err := ev.LoopOnce(); err != nil {
				t.Fatalf("%s: LoopOnce: %v", name, err)
			}
			if !called {
				t.Fatalf("%s: callback did not run on the next iteration", name)
			}
			if _, err := tevent.CallRecv(req); !errors.Is(err, syscall.EINVAL) {
				t.Fatalf("%s: CallRecv = %v, want EINVAL", name, err)
			}
		}
		if ran {
			t.Fatal("fn ran for a call to a nil target")
		}
	})
}

func TestCallSendClosedContexts(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := newCtx(), newCtx()
		if err := target.Close(); err != nil {
			t.Fatal(err)
		}
		ran, called := false, false
		fn := func() (int, error) { ran = true; return 1, nil }
		req := tevent.CallSend(ev, target, fn)
		req.SetCallback(func(*tevent.Req[int]) { called = true })
		if called {
			t.Fatal("callback ran inside CallSend")
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if _, err := tevent.CallRecv(req); !called || !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("closed target: callback ran %v, CallRecv = %v; want true, ErrClosed", called, err)
		}

		// From a closed ev: fn must not run for a result nobody can have.
		live := newCtx()
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		req = tevent.CallSend(ev, live, fn)
		if _, err := tevent.CallRecv(req); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("closed ev: CallRecv = %v, want ErrClosed", err)
		}
		if err := live.Close(); err != nil { // runs anything posted to live
			t.Fatal(err)
		}
		if ran {
			t.Fatal("fn ran for a call that failed at CallSend")
		}
	})
}

// A call accepted by target runs even if target is closed before its loop
// gets to it: during Close, and its result still comes back.
func TestCallSendTargetClosedBeforeFnRuns(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := newCtx(), newCtx()
		sawClosed := false
		req := tevent.CallSend(ev, target, func() (int, error) {
			sawClosed = target.Closed()
			return 7, nil
		})
		// target's loop is not running: this goroutine owns it, and Close
		// tears it down here, running the posted fn.
		if err := target.Close(); err != nil {
			t.Fatal(err)
		}
		v, err := pollCall(t, req)
		if v != 7 || err != nil || !sawClosed {
			t.Fatalf("CallRecv = %v, %v, fn saw target closed %v; want 7, nil, true", v, err, sawClosed)
		}
	})
}

// ev closed while fn runs: the result is dropped, and no callback runs.
func TestCallSendEvClosedBeforeResult(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := newCtx(), newCtx()
		stop := loopOnGoroutine(t, target)
		g := newGate(t)
		req, started := slowCall(ev, target, g, 1)
		req.SetCallback(func(*tevent.Req[int]) { t.Error("callback ran after ev was closed") })
		<-started
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		g.open()
		// Stopping target waits for its loop, so fn has returned and its
		// Post to ev has failed by now.
		stop()
		if _, err := tevent.CallRecv(req); err == nil {
			t.Fatal("CallRecv after ev was closed = nil error")
		}
	})
}

func TestCallSendAbandonWhileFnRuns(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := twoLoops(t, newCtx)
		g := newGate(t)
		req, started := slowCall(ev, target, g, 1)
		req.SetCallback(func(*tevent.Req[int]) { t.Error("callback of an abandoned call ran") })
		<-started
		req.Abandon()
		// The abandoned call no longer keeps ev's loop waiting.
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce after Abandon = %v, want ErrNoEvents", err)
		}
		g.open()
		flushCalls(t, ev, target) // the abandoned result arrives and is dropped
		if !req.Abandoned() || req.State() != tevent.StateReceived {
			t.Fatalf("abandoned call: Abandoned %v, State %v", req.Abandoned(), req.State())
		}
	})
}

func TestCallSendEndTime(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := twoLoops(t, newCtx, tevent.WithClock(tevent.NewFakeClock(epoch)))
		g := newGate(t)
		req, _ := slowCall(ev, target, g, 1)
		calls := 0
		req.SetCallback(func(*tevent.Req[int]) { calls++ })
		req.SetEndTime(ev.Now().Add(time.Second))
		// The fake clock jumps to the end time while fn waits on target.
		_, err := pollCall(t, req)
		if !errors.Is(err, tevent.ErrTimedOut) || !errors.Is(err, syscall.ETIMEDOUT) {
			t.Fatalf("CallRecv = %v, want ErrTimedOut", err)
		}
		g.open()
		flushCalls(t, ev, target) // the late result arrives and is dropped
		if calls != 1 || req.State() != tevent.StateReceived {
			t.Fatalf("timed-out call: callback ran %d times, State %v; want 1, received", calls, req.State())
		}
	})
}

func TestCallSendCancelNotSupported(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := twoLoops(t, newCtx)
		g := newGate(t)
		req, started := slowCall(ev, target, g, 5)
		<-started
		if req.Cancel() {
			t.Fatal("Cancel = true, want false: fn cannot be stopped")
		}
		g.open()
		if v, err := pollCall(t, req); v != 5 || err != nil {
			t.Fatalf("CallRecv after Cancel = %v, %v; want 5, nil", v, err)
		}
	})
}

// Each loop calls the other, and fn on one loop starts a call back from
// that loop: both directions at once, under -race.
func TestCallBothWays(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := twoLoops(t, newCtx)
		const n = 200
		evSum, evBack := 0, 0         // ev's
		targetSum, targetBack := 0, 0 // target's
		for i := range n {
			req := tevent.CallSend(ev, target, func() (int, error) {
				targetSum += i
				back := tevent.CallSend(target, ev, func() (int, error) {
					evSum += i
					return i, nil
				})
				back.SetCallback(addResult(t, "target", &targetBack))
				return i, nil
			})
			req.SetCallback(addResult(t, "ev", &evBack))
		}
		want := n * (n - 1) / 2
		if err := ev.LoopUntil(func() bool { return evBack == want }); err != nil {
			t.Fatal(err)
		}
		// Every call back to ev ran there before ev's last result was
		// posted, and its result went to target before this call does.
		sums := tevent.CallSend(ev, target, func() ([2]int, error) {
			return [2]int{targetSum, targetBack}, nil
		})
		got, err := pollCall(t, sums)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([4]int{want, want, want, want}, [4]int{evSum, evBack, got[0], got[1]}); diff != "" {
			t.Fatalf("sums (ev fn, ev results, target fn, target results) mismatch (-want +got):\n%s", diff)
		}
	})
}

// addResult returns a callback that adds a call's result to *sum, on the
// loop named where.
func addResult(t *testing.T, where string, sum *int) func(*tevent.Req[int]) {
	return func(req *tevent.Req[int]) {
		v, err := tevent.CallRecv(req)
		if err != nil {
			t.Errorf("CallRecv on %s: %v", where, err)
		}
		*sum += v
	}
}

// A round trip costs the request, the call's state and one function value
// posted both ways, on top of what the two Posts themselves cost (nothing,
// except under -race, where the wake-up descriptor's buffers escape).
func TestCallSendAllocs(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, target := twoLoops(t, newCtx)
		keepAlive(t, ev) // for the bare Posts, which do not hold ev's loop

		// The bare crossing: the same two Posts, with functions made once.
		back := false
		toEv := func() { back = true }
		toTarget := func() {
			if err := ev.Post(toEv); err != nil {
				t.Error(err)
			}
		}
		posts := func() {
			back = false
			if err := target.Post(toTarget); err != nil {
				t.Fatal(err)
			}
			for !back { // as Req.Poll drives the loop
				if err := ev.LoopOnce(); err != nil {
					t.Fatal(err)
				}
			}
		}
		fn := func() (int, error) { return 1, nil }
		call := func() {
			if _, err := pollCall(t, tevent.CallSend(ev, target, fn)); err != nil {
				t.Fatal(err)
			}
		}
		posts()
		call()
		base := testing.AllocsPerRun(200, posts)
		got := testing.AllocsPerRun(200, call)
		t.Logf("allocations per round trip: CallSend %v, two bare Posts %v", got, base)
		if got-base > 3 {
			t.Fatalf("CallSend round trip: %v allocations, %v more than two bare Posts; want at most 3 more", got, got-base)
		}
	})
}
