package tevent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// keepAlive registers an event that never fires, so the loop blocks instead
// of returning ErrNoEvents; the returned func removes it.
func keepAlive(t *testing.T, ev *tevent.Context) func() {
	t.Helper()
	a, _ := testutil.Socketpair(t)
	fde, err := ev.AddFD(a, tevent.FDRead, func(*tevent.FD, tevent.Flags) { t.Error("keep-alive fd fired") })
	if err != nil {
		t.Fatal(err)
	}
	return fde.Remove
}

func TestPostFromManyGoroutines(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		done := keepAlive(t, ev)
		const n = 200
		got := make([]bool, n)
		count := 0
		var start, wg sync.WaitGroup
		start.Add(1)
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start.Wait()
				errs <- ev.Post(func() { got[i] = true; count++ })
			}()
		}
		start.Done()
		if err := ev.LoopUntil(func() bool { return count == n }); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("Post: %v", err)
			}
		}
		for i, ok := range got {
			if !ok {
				t.Fatalf("post %d never ran", i)
			}
		}
		done()
	})
}

func TestCloseFromAnotherGoroutineWakesLoop(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		keepAlive(t, ev)
		ran := make(chan struct{})
		loopErr := make(chan error, 1)
		go func() {
			ev.ScheduleImmediate(func() { close(ran) })
			loopErr <- ev.LoopWait()
		}()
		<-ran // the loop is running (and will now block on the fd)
		if err := ev.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-loopErr; err != nil {
			t.Fatalf("LoopWait after Close = %v, want nil", err)
		}
		if err := ev.Post(func() {}); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("Post after Close = %v, want ErrClosed", err)
		}
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("LoopOnce after Close = %v, want ErrClosed", err)
		}
		if _, err := ev.AddFD(0, tevent.FDRead, func(*tevent.FD, tevent.Flags) {}); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("AddFD after Close = %v, want ErrClosed", err)
		}
		if err := ev.Close(); err != nil {
			t.Fatalf("second Close = %v", err)
		}
	})
}

func TestCloseInsideHandler(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := testutil.Socketpair(t)
		unix.Write(b, []byte("x"))
		others := 0
		// Two ready fds; whichever runs first closes the context, and the
		// other must not be called afterwards.
		for _, fd := range []int{a, b} {
			if fd == b {
				unix.Write(a, []byte("y"))
			}
			if _, err := ev.AddFD(fd, tevent.FDRead, func(*tevent.FD, tevent.Flags) {
				others++
				if err := ev.Close(); err != nil {
					t.Errorf("Close in handler: %v", err)
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
		ev.AddTimer(time.Now().Add(time.Hour), func(*tevent.Timer, time.Time) { t.Error("timer ran after Close") })
		if err := ev.LoopOnce(); err != nil && !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("LoopOnce = %v", err)
		}
		if others != 1 {
			t.Fatalf("%d handlers ran; the one after Close must not", others)
		}
		if err := ev.LoopWait(); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("LoopWait after Close = %v, want ErrClosed", err)
		}
	})
}

func TestPostStormDuringClose(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		keepAlive(t, ev)
		var accepted, ran atomic.Int64
		var wg sync.WaitGroup
		loopDone := make(chan error, 1)
		started := make(chan struct{})
		go func() {
			ev.ScheduleImmediate(func() { close(started) })
			loopDone <- ev.LoopWait()
		}()
		<-started
		for range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					if err := ev.Post(func() { ran.Add(1) }); err != nil {
						if !errors.Is(err, tevent.ErrClosed) {
							t.Errorf("Post = %v", err)
						}
						return
					}
					accepted.Add(1)
				}
			}()
		}
		for ran.Load() < 1000 {
			// Let the storm build up; each round trip goes through the loop.
			done := make(chan struct{})
			if ev.Post(func() { ran.Add(1); close(done) }) != nil {
				break
			}
			accepted.Add(1)
			<-done
		}
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		<-ev.Done() // Close from another goroutine does not wait
		atClose := ran.Load()
		wg.Wait()
		if err := <-loopDone; err != nil {
			t.Fatalf("LoopWait = %v", err)
		}
		if got := ran.Load(); got != atClose {
			t.Fatalf("%d posted functions ran after Done was closed", got-atClose)
		}
		if a := accepted.Load(); ran.Load() != a {
			t.Fatalf("accepted %d posts, ran %d: an accepted post was lost", a, ran.Load())
		}
	})
}

func TestRemoveDuringDispatch(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a1, a2 := testutil.Socketpair(t)
		b1, b2 := testutil.Socketpair(t)
		unix.Write(a2, []byte("x"))
		unix.Write(b2, []byte("x"))
		calls := 0
		var fa, fb *tevent.FD
		h := func(self *tevent.FD, _ tevent.Flags) {
			calls++
			// Remove the other one, then ourselves.
			if self == fa {
				fb.Remove()
			} else {
				fa.Remove()
			}
			self.Remove()
		}
		var err error
		if fa, err = ev.AddFD(a1, tevent.FDRead, h); err != nil {
			t.Fatal(err)
		}
		if fb, err = ev.AddFD(b1, tevent.FDRead, h); err != nil {
			t.Fatal(err)
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if calls != 1 {
			t.Fatalf("%d handlers ran; an event removed during dispatch must not be called", calls)
		}
	})
}

func TestReusedFDNumberIsNotCalledForOldReadiness(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a1, a2 := testutil.Socketpair(t)
		bfds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(bfds[1])
		unix.Write(a2, []byte("x"))
		unix.Write(bfds[1], []byte("x"))
		c1, c2 := testutil.Socketpair(t) // the replacement, silent
		_ = c2
		reused := -1
		newCalls := 0
		var fa, fb *tevent.FD
		h := func(self *tevent.FD, _ tevent.Flags) {
			self.Remove()
			other := fb
			if self == fb {
				other = fa
			}
			if other.Fd() < 0 || reused >= 0 {
				return
			}
			// Close the other ready fd and put a different socket at the
			// same fd number, registered for reading: the old readiness
			// must not reach it.
			num := other.Fd()
			other.SetAutoClose(true)
			other.Remove()
			if err := sys.Dup2(c1, num); err != nil {
				t.Errorf("dup3: %v", err)
				return
			}
			reused = num
			if _, err := ev.AddFD(num, tevent.FDRead, func(fde *tevent.FD, _ tevent.Flags) {
				newCalls++
				fde.Remove()
			}); err != nil {
				t.Errorf("AddFD on the reused number: %v", err)
			}
		}
		if fa, err = ev.AddFD(a1, tevent.FDRead, h); err != nil {
			t.Fatal(err)
		}
		if fb, err = ev.AddFD(bfds[0], tevent.FDRead, h); err != nil {
			t.Fatal(err)
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if reused < 0 {
			t.Fatal("handler did not run")
		}
		if newCalls != 0 {
			t.Fatalf("the new event on reused fd %d was called for the old fd's readiness", reused)
		}
		unix.Close(reused)
	})
}

func TestFairnessTimersNotStarvedByReadyFDs(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		const nfds, rounds = 32, 20
		calls := make([]int, nfds)
		for i := range nfds {
			a, b := testutil.Socketpair(t)
			unix.Write(b, []byte("always ready"))
			fde, err := ev.AddFD(a, tevent.FDRead, func(*tevent.FD, tevent.Flags) { calls[i]++ }) // never reads
			if err != nil {
				t.Fatal(err)
			}
			defer fde.Remove()
		}
		fired := 0
		ev.AddTimer(time.Now(), func(te *tevent.Timer, now time.Time) {
			fired++
			te.Reset(now) // due again on the next iteration
		})
		for i := 1; i <= rounds; i++ {
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
			if fired != i {
				t.Fatalf("iteration %d: timer ran %d times; ready fds starved it", i, fired)
			}
			for fd, n := range calls {
				if n != i {
					t.Fatalf("iteration %d: fd %d called %d times; each ready fd runs once per iteration", i, fd, n)
				}
			}
		}
	})
}

func TestTracePoints(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		var got []string
		ev := newCtx(tevent.WithTrace(func(p tevent.TracePoint) { got = append(got, p.String()) }))
		a, b := testutil.Socketpair(t)
		unix.Write(b, []byte("x"))
		fde, err := ev.AddFD(a, tevent.FDRead, func(fde *tevent.FD, _ tevent.Flags) {
			got = append(got, "handler")
			fde.Remove()
		})
		if err != nil {
			t.Fatal(err)
		}
		defer fde.Remove()
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		want := []string{"before_loop_once", "before_wait", "after_wait", "handler", "after_loop_once"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("trace mismatch (-want +got):\n%s", diff)
		}
	})
}

// Under Run, an iteration whose handlers queued no immediate waits for
// its fds at once, blocking, as an iteration that ran nothing would: no
// second wait that can only find nothing. LoopOnce still returns after
// its handlers: its wait does not block.
func TestRunBlocksAfterHandlers(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		var waits []int
		tevent.SpyWaits(ev, func(msec int) { waits = append(waits, msec) })
		remove := keepAlive(t, ev)
		defer remove()

		ev.ScheduleImmediate(func() {})
		if err := ev.LoopOnce(); err != nil { // would hang if it blocked
			t.Fatal(err)
		}
		if !cmp.Equal(waits, []int{0}) {
			t.Fatalf("LoopOnce after an immediate waited with timeouts %v, want [0]", waits)
		}

		waits = nil
		ctx, cancel := context.WithCancel(context.Background())
		ev.ScheduleImmediate(func() {
			// Whenever the Post lands, the wait that follows this
			// immediate has already been asked for with its timeout.
			go ev.Post(cancel)
		})
		if err := ev.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		if len(waits) == 0 || waits[0] != -1 {
			t.Fatalf("Run: waits with timeouts %v; want the first, right after the immediate, to block (-1)", waits)
		}
	})
}

func TestRunStopsWithContext(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		remove := keepAlive(t, ev)
		ctx, cancel := context.WithCancel(context.Background())
		ev.ScheduleImmediate(cancel) // cancelled from inside the loop
		if err := ev.Run(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		ctx2, cancel2 := context.WithCancel(context.Background())
		res := make(chan error, 1)
		started := make(chan struct{})
		go func() {
			ev.ScheduleImmediate(func() { close(started) })
			res <- ev.Run(ctx2)
		}()
		<-started
		cancel2() // from another goroutine: wakes the blocked wait
		if err := <-res; !errors.Is(err, context.Canceled) {
			t.Fatalf("Run = %v, want context.Canceled", err)
		}
		remove()
		if err := ev.Run(context.Background()); err != nil {
			t.Fatalf("Run with nothing registered = %v, want nil", err)
		}
	})
}

func TestLoopUntil(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		n := 0
		ev.AddTimer(epoch, func(te *tevent.Timer, now time.Time) {
			n++
			te.Reset(now.Add(time.Second))
		})
		if err := ev.LoopUntil(func() bool { return n == 5 }); err != nil {
			t.Fatal(err)
		}
		if n != 5 {
			t.Fatalf("n = %d", n)
		}
		empty := newCtx()
		if err := empty.LoopUntil(func() bool { return false }); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopUntil with nothing to run = %v, want ErrNoEvents", err)
		}
	})
}

func TestSignalsCoalesceIntoACount(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		var calls []int
		s, err := ev.AddSignal(syscall.SIGUSR1, func(sig os.Signal, count int) {
			if sig != syscall.SIGUSR1 {
				t.Errorf("handler got %v", sig)
			}
			calls = append(calls, count)
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Inject(1)
		s.Inject(2)
		s.Inject(4)
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]int{7}, calls); diff != "" {
			t.Fatalf("coalesced counts mismatch (-want +got):\n%s", diff)
		}
		// A real signal goes through the runtime and the forwarder.
		calls = nil
		if err := unix.Kill(os.Getpid(), unix.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		if err := ev.LoopUntil(func() bool { return len(calls) > 0 }); err != nil {
			t.Fatal(err)
		}
		if calls[0] < 1 {
			t.Fatalf("count = %d", calls[0])
		}
		s.Remove()
		s.Remove()
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce after Remove = %v, want ErrNoEvents", err)
		}
	})
}

func TestSignalRemovedInsideOwnHandler(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		var s *tevent.Signal
		calls := 0
		s, err := ev.AddSignal(syscall.SIGUSR2, func(os.Signal, int) {
			calls++
			s.Remove()
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Inject(1)
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if calls != 1 {
			t.Fatalf("calls = %d", calls)
		}
	})
}

func TestFakeClockAdvance(t *testing.T) {
	c := tevent.NewFakeClock(epoch)
	c.Advance(time.Second)
	c.Advance(-time.Hour)
	c.Set(epoch)
	if got := c.Now(); !got.Equal(epoch.Add(time.Second)) {
		t.Fatalf("Now = %v, want %v (the clock never goes back)", got, epoch.Add(time.Second))
	}
}

// A loop nested inside a handler (Poll in a callback) runs its own
// iteration without disturbing the batch the outer one is running: every
// immediate and every ready fd runs exactly once.
func TestNestedLoopKeepsOuterBatches(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		ran := map[string]int{}
		// Warm up, so the loop's spare immediate array is in use and large
		// enough that the outer batch's additions land in it.
		for range 8 {
			ev.ScheduleImmediate(func() {})
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"i1", "i2", "i3"} {
			ev.ScheduleImmediate(func() {
				ran[name]++
				if name != "i1" {
					return
				}
				// Queue more, then run a nested loop until a request is done.
				for _, more := range []string{"n1", "n2", "n3", "n4"} {
					ev.ScheduleImmediate(func() {
						ran[more]++
						if more == "n1" {
							// Queued by the nested batch while it runs.
							for _, m := range []string{"m1", "m2", "m3"} {
								ev.ScheduleImmediate(func() { ran[m]++ })
							}
						}
					})
				}
				req := tevent.NewReq[int](ev)
				ev.ScheduleImmediate(func() { req.Done(1) })
				if err := req.Poll(); err != nil {
					t.Errorf("nested Poll: %v", err)
				}
			})
		}
		for i := range 4 {
			a, b := testutil.Socketpair(t)
			unix.Write(b, []byte("x"))
			name := fmt.Sprintf("fd%d", i)
			_, err := ev.AddFD(a, tevent.FDRead, func(fde *tevent.FD, _ tevent.Flags) {
				ran[name]++
				fde.Remove()
				if name == "fd0" || name == "fd1" {
					// A nested loop inside an fd handler waits again.
					w := tevent.WakeupSend(ev, time.Now())
					if err := w.Poll(); err != nil {
						t.Errorf("nested Poll: %v", err)
					}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"i1", "i2", "i3", "n1", "n2", "n3", "n4", "m1", "m2", "m3", "fd0", "fd1", "fd2", "fd3"} {
			if ran[name] != 1 {
				t.Errorf("%s ran %d times, want 1 (all: %v)", name, ran[name], ran)
			}
		}
	})
}
