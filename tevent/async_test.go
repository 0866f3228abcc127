package tevent_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"go.uber.org/goleak"
)

// suspendedEvent returns a fresh socketpair fd's MaskEvent, scheduled and
// suspended at once, whose callback counts its calls in *calls and frees it.
func suspendedEvent(t *testing.T, ev *tevent.Context, calls *int) *tevent.MaskEvent {
	t.Helper()
	_, b := testutil.Socketpair(t)
	e := ev.BuildFDEvent(b, tevent.FDRead, func(*tevent.MaskEvent, tevent.Flags, time.Time) tevent.Flags {
		*calls++
		return 0
	}, nil)
	if err := ev.ScheduleEvent(e); err != nil {
		t.Fatal(err)
	}
	return e.Suspend()
}

func TestAsyncJobsBoundedPool(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ignore := goleak.IgnoreCurrent()
		const workers, jobs, wakes = 2, 1000, 10
		ev := newCtx(tevent.WithAsyncWorkers(workers))
		var running, peak, ran atomic.Int32
		// The first two jobs wait for each other, so the test hangs
		// (rather than passes) if the pool runs fewer than two at once.
		var rendezvous sync.WaitGroup
		rendezvous.Add(workers)
		finished, resumed := 0, 0
		// An event that is never called keeps the loop waiting until the
		// last job has reported in.
		a, _ := testutil.Socketpair(t)
		keep, err := ev.AddFD(a, 0, func(*tevent.FD, tevent.Flags) {})
		if err != nil {
			t.Fatal(err)
		}
		for i := range jobs {
			job := func() {
				n := running.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				if i < workers {
					rendezvous.Done()
					rendezvous.Wait()
				}
				ran.Add(1)
				running.Add(-1)
				// Count on the loop: Post is safe from a job.
				err := ev.Post(func() {
					if finished++; finished == jobs {
						keep.Remove()
					}
				})
				if err != nil {
					t.Errorf("Post from job %d: %v", i, err)
				}
			}
			var wake *tevent.MaskEvent
			if i%(jobs/wakes) == jobs/wakes-1 {
				wake = suspendedEvent(t, ev, &resumed)
			}
			if err := ev.QueueAsyncJob(job, wake, tevent.FDRead); err != nil {
				t.Fatalf("QueueAsyncJob %d: %v", i, err)
			}
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if finished != jobs || resumed != wakes {
			t.Fatalf("%d jobs reported in, %d wake events resumed; want %d and %d", finished, resumed, jobs, wakes)
		}
		if ran.Load() != jobs {
			t.Fatalf("%d jobs ran, want %d", ran.Load(), jobs)
		}
		if p := peak.Load(); p != workers {
			t.Fatalf("at most %d jobs ran at once, want %d", p, workers)
		}
		// Idle workers exit without Close.
		goleak.VerifyNone(t, ignore)
		if n := tevent.AsyncWorkers(ev); n != 0 {
			t.Fatalf("%d workers alive after the queue drained", n)
		}
	})
}

func TestAsyncJobsFIFO(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithAsyncWorkers(1))
		var order []int // appended by one job at a time
		done := make(chan struct{})
		const n = 50
		for i := range n {
			err := ev.QueueAsyncJob(func() {
				order = append(order, i)
				if i == n-1 {
					close(done)
				}
			}, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
		}
		<-done
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		if diff := cmp.Diff(want, order); diff != "" {
			t.Fatalf("jobs ran out of order (-want +got):\n%s", diff)
		}
	})
}

func TestAsyncCloseDropsQueuedJobs(t *testing.T) {
	for _, where := range []string{"idle loop", "running loop"} {
		t.Run(where, func(t *testing.T) {
			backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
				ignore := goleak.IgnoreCurrent()
				ev := newCtx(tevent.WithAsyncWorkers(1))
				started, release := make(chan struct{}), make(chan struct{})
				var ran atomic.Int32
				resumed := 0
				var wakes []*tevent.MaskEvent
				for i := range 5 {
					wake := suspendedEvent(t, ev, &resumed)
					wakes = append(wakes, wake)
					job := func() { ran.Add(1) }
					if i == 0 {
						job = func() {
							close(started)
							<-release // until Close has dropped the queue
							ran.Add(1)
						}
					}
					if err := ev.QueueAsyncJob(job, wake, tevent.FDWrite); err != nil {
						t.Fatal(err)
					}
				}
				loopDone := make(chan error, 1)
				if where == "running loop" {
					// Close must find the loop running, so that it tears
					// down on the loop goroutine.
					running := make(chan struct{})
					if err := ev.Post(func() { close(running) }); err != nil {
						t.Fatal(err)
					}
					go func() { loopDone <- ev.LoopWait() }()
					<-running
				}
				<-started
				tevent.SetAsyncClosingHook(ev, func() { close(release) })
				if err := ev.Close(); err != nil {
					t.Fatal(err)
				}
				if where == "running loop" {
					if err := <-loopDone; err != nil {
						t.Fatalf("LoopWait = %v", err)
					}
				}
				// Close waited for the running job and dropped the others;
				// no worker outlives it.
				if n := ran.Load(); n != 1 {
					t.Fatalf("%d jobs ran, want only the one running at Close", n)
				}
				if resumed != 0 {
					t.Fatalf("%d wake events resumed after Close", resumed)
				}
				goleak.VerifyNone(t, ignore)
				for _, w := range wakes {
					if !fdOpen(w.Fd()) {
						t.Fatalf("fd %d of a dropped job's wake event was closed", w.Fd())
					}
				}
				if err := ev.QueueAsyncJob(func() {}, nil, 0); !errors.Is(err, tevent.ErrClosed) {
					t.Fatalf("QueueAsyncJob after Close = %v, want ErrClosed", err)
				}
			})
		})
	}
}

func TestAsyncNilWake(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		done := make(chan int, 1)
		if err := ev.QueueAsyncJob(func() { done <- 42 }, nil, 0); err != nil {
			t.Fatal(err)
		}
		// Nothing keeps the loop waiting for a job without a wake event.
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce = %v, want ErrNoEvents", err)
		}
		if v := <-done; v != 42 {
			t.Fatalf("job sent %d", v)
		}
	})
}
