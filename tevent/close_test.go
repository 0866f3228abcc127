package tevent_test

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// Defect 1 of issue 12: while the owner adds and cancels timers between
// LoopOnce calls, a Close from another goroutine tore the context down on
// its own goroutine (nil dereference in teardown, heap index out of range,
// races under -race). Close from elsewhere must leave the teardown to the
// owner, or do it only while the owner is inside no call of the package.
func TestCloseFromAnotherGoroutineWhileOwnerBetweenLoopCalls(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		rounds := 300
		if testing.Short() {
			rounds = 50
		}
		for range rounds {
			ev := newCtx()
			start := make(chan struct{})
			closed := make(chan error, 1)
			go func() {
				<-start
				closed <- ev.Close()
			}()
			close(start)
			var timers []*tevent.Timer
			for i := 0; ; i++ {
				// Owner work between loop calls: arm, re-arm, cancel.
				at := ev.Now().Add(time.Duration(i%7) * time.Microsecond)
				timers = append(timers, ev.AddTimer(at, func(*tevent.Timer, time.Time) {}))
				if i%2 == 0 {
					timers[i/2].Cancel()
				} else {
					timers[i/3].Reset(at)
				}
				ev.ScheduleImmediate(func() {})
				if err := ev.LoopOnce(); err != nil {
					if !errors.Is(err, tevent.ErrClosed) {
						t.Fatalf("LoopOnce = %v, want nil or ErrClosed", err)
					}
					break
				}
			}
			if err := <-closed; err != nil {
				t.Fatalf("Close = %v", err)
			}
			<-ev.Done()
			for _, tm := range timers {
				if tm.Pending() || tm.Cancel() {
					t.Fatal("a timer is still armed after the teardown")
				}
			}
		}
	})
}

// Defect 2: after one Poll on goroutine A, goroutine B runs
// ScheduleImmediate(ev.Close) and LoopOnce; LoopOnce never returned,
// because the owner recorded from runtime.Stack was stale.
func TestCloseInsideHandlerAfterContextMoved(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // goroutine A
			defer wg.Done()
			req := tevent.WakeupSend(ev, ev.Now())
			if err := req.Poll(); err != nil {
				t.Errorf("Poll on A: %v", err)
			}
		}()
		wg.Wait() // hands the context over to B
		loopErr := make(chan error, 1)
		go func() { // goroutine B
			ev.ScheduleImmediate(func() { _ = ev.Close() })
			ev.AddTimer(ev.Now().Add(time.Hour), func(*tevent.Timer, time.Time) { t.Error("timer ran after Close") })
			loopErr <- ev.LoopOnce()
		}()
		select {
		case err := <-loopErr:
			if err != nil && !errors.Is(err, tevent.ErrClosed) {
				t.Fatalf("LoopOnce = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("LoopOnce did not return after a Close inside its handler")
		}
		select {
		case <-ev.Done():
		default:
			t.Fatal("Done not closed when the loop call that tore down returned")
		}
	})
}

// Close between loop calls, on the owner, tears down at once.
func TestCloseFromOwnerTearsDownAtOnce(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		ev.AddTimer(ev.Now().Add(time.Hour), func(*tevent.Timer, time.Time) {})
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ev.Done():
		default:
			t.Fatal("Done not closed after Close with no loop running")
		}
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("LoopOnce after Close = %v, want ErrClosed", err)
		}
	})
}

// A Close from another goroutine while the loop is blocked wakes it; the
// loop tears down before its call returns, and Done tells the closer.
func TestCloseFromAnotherGoroutineDoneAfterLoopReturns(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		keepAlive(t, ev)
		running := make(chan struct{})
		loopErr := make(chan error, 1)
		ev.ScheduleImmediate(func() { close(running) })
		go func() { loopErr <- ev.LoopWait() }()
		<-running
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		<-ev.Done()
		if err := <-loopErr; err != nil {
			t.Fatalf("LoopWait = %v", err)
		}
	})
}

// Defect 6: a cancel function that calls Cancel on its own request
// recursed until the stack overflowed.
func TestCancelFnCancellingItsOwnRequest(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		req := tevent.NewReq[int](ev)
		inner := 0
		var innerResult bool
		req.SetCancelFn(func() bool {
			inner++
			innerResult = req.Cancel() // must be refused, not recurse
			return true
		})
		if !req.Cancel() {
			t.Fatal("Cancel = false, want true")
		}
		if inner != 1 || innerResult {
			t.Fatalf("cancel function ran %d times, inner Cancel = %v; want 1, false", inner, innerResult)
		}
		if _, err := req.Recv(); !errors.Is(err, tevent.ErrCancelled) {
			t.Fatalf("Recv = %v, want ErrCancelled", err)
		}
	})
}

// Defect 7: requests in flight at Close never finished and kept what they
// owned. A request with a cleanup function is ended with ErrClosed, its
// cleanup runs, and it never calls back; one without ends with ErrClosed
// too when received.
func TestRequestsInFlightAtCloseEndWithErrClosed(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		for _, where := range []string{"owner", "handler", "other goroutine"} {
			t.Run(where, func(t *testing.T) {
				ev := newCtx()
				const n = 20
				reqs := make([]*tevent.Req[int], n)
				plain := make([]*tevent.Req[int], n)
				cleaned := make([]tevent.State, n)
				for i := range n {
					reqs[i] = tevent.NewReq[int](ev)
					reqs[i].SetCleanupFn(func(st tevent.State) { cleaned[i] = st })
					reqs[i].SetEndTime(ev.Now().Add(time.Hour))
					reqs[i].SetCallback(func(*tevent.Req[int]) { t.Error("callback after Close") })
					plain[i] = tevent.NewReq[int](ev)
					plain[i].SetCallback(func(*tevent.Req[int]) { t.Error("callback after Close") })
				}
				// A finished one keeps its result.
				done := tevent.NewReq[int](ev)
				done.SetCleanupFn(func(tevent.State) {})
				done.Done(7)
				switch where {
				case "owner":
					if err := ev.Close(); err != nil {
						t.Fatal(err)
					}
				case "handler":
					ev.ScheduleImmediate(func() { _ = ev.Close() })
					if err := ev.LoopWait(); err != nil {
						t.Fatal(err)
					}
				case "other goroutine":
					running := make(chan struct{})
					ev.ScheduleImmediate(func() { close(running) })
					loopErr := make(chan error, 1)
					go func() { loopErr <- ev.LoopWait() }()
					<-running
					if err := ev.Close(); err != nil {
						t.Fatal(err)
					}
					<-ev.Done()
					if err := <-loopErr; err != nil {
						t.Fatal(err)
					}
				}
				<-ev.Done()
				for i := range n {
					if cleaned[i] != tevent.StateError {
						t.Fatalf("request %d: cleanup ran with %v, want %v", i, cleaned[i], tevent.StateError)
					}
					if st := reqs[i].State(); st != tevent.StateError {
						t.Fatalf("request %d: state %v after Close", i, st)
					}
					for _, r := range []*tevent.Req[int]{reqs[i], plain[i]} {
						if _, err := r.Recv(); !errors.Is(err, tevent.ErrClosed) {
							t.Fatalf("Recv of a request in flight at Close = %v, want ErrClosed", err)
						}
					}
					if err := reqs[i].Poll(); err != nil {
						t.Fatalf("Poll of an ended request = %v", err)
					}
				}
				if v, err := done.Recv(); v != 7 || err != nil {
					t.Fatalf("finished request after Close: %d, %v; want 7, nil", v, err)
				}
			})
		}
	})
}

// A cleanup running during the teardown may finish another request in
// flight (it then finishes normally), and Done or Error on a request the
// teardown already ended does nothing (no "finishes once" panic).
func TestFinishAfterEndedByClose(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a := tevent.NewReq[int](ev)
		b := tevent.NewReq[int](ev)
		a.SetCleanupFn(func(st tevent.State) {
			if st == tevent.StateError {
				b.Done(1)
			}
		})
		b.SetCleanupFn(func(st tevent.State) {
			if st == tevent.StateDone {
				a.Done(2)
				a.Error(errors.New("late"))
			}
		})
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Recv(); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("a: Recv = %v, want ErrClosed", err)
		}
		if v, err := b.Recv(); v != 1 || err != nil {
			t.Fatalf("b: Recv = %d, %v; want 1, nil", v, err)
		}
	})
}

// Defect 4: the poll backend took a closed fd number and called its
// handler for ever on POLLNVAL; a huge number made AddFD allocate a table
// that size, and epoll truncated numbers past 2^31. AddFD refuses them all
// with EBADF, on every backend.
func TestAddFDRefusesBadNumbers(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		closedFd, _ := testutil.Socketpair(t)
		if err := unix.Close(closedFd); err != nil {
			t.Fatal(err)
		}
		fds := []int{-1, closedFd, 1 << 30}
		if strconv.IntSize == 64 {
			// Past 32 bits: epoll's event carries an int32.
			wide := int64(1) << 31
			fds = append(fds, int(wide+5), int(wide<<9))
		}
		for _, fd := range fds {
			if _, err := ev.AddFD(fd, tevent.FDRead, func(*tevent.FD, tevent.Flags) {
				t.Errorf("handler of refused fd %d called", fd)
			}); !errors.Is(err, unix.EBADF) {
				t.Errorf("AddFD(%d) = %v, want EBADF", fd, err)
			}
		}
	})
}
