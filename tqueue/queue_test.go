package tqueue_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
)

// loopWait runs ev until no events remain.
func loopWait(t *testing.T, ev *tevent.Context) {
	t.Helper()
	if err := ev.LoopWait(); err != nil {
		t.Fatalf("LoopWait: %v", err)
	}
}

// at runs fn when ev's fake clock reaches d after epoch.
func at(ev *tevent.Context, d time.Duration, fn func()) {
	ev.AddTimer(epoch.Add(d), func(*tevent.Timer, time.Time) { fn() })
}

// clockLogf returns a Printf that appends its line to *log, prefixed with
// the time since epoch on ev's fake clock.
func clockLogf(ev *tevent.Context, log *[]string) func(format string, args ...any) {
	return func(format string, args ...any) {
		*log = append(*log, fmt.Sprintf("%v ", ev.Now().Sub(epoch))+fmt.Sprintf(format, args...))
	}
}

// receive is a callback that collects the result, releasing the request's
// queue entry.
func receive[T any](req *tevent.Req[T]) { _, _ = req.Recv() }

func TestNew(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		q := tqueue.New(newCtx(), "writes")
		type state struct {
			Name    string
			Running bool
			Len     int
		}
		want := state{"writes", true, 0}
		got := state{q.Name(), q.Running(), q.Len()}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("new queue mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestOrderOneAtATime pushes many entries whose requests finish in different
// ways (inside the trigger, from an immediate, from a timer) and checks that
// they are triggered in order, one at a time, and only once the previous
// request was received.
func TestOrderOneAtATime(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		q := tqueue.New(ev, "jobs")
		var triggered, received []int
		busy := false
		for i := range n {
			req := tevent.NewReq[int](ev)
			q.Add(req, func() {
				if busy {
					t.Errorf("job %d triggered while another is in flight", i)
				}
				if got, want := q.Len(), n-i; got != want {
					t.Errorf("job %d: Len = %d, want %d (the head counts)", i, got, want)
				}
				busy = true
				triggered = append(triggered, i)
				switch i % 3 {
				case 0:
					req.Done(i)
				case 1:
					ev.ScheduleImmediate(func() { req.Done(i) })
				case 2:
					ev.AddTimer(ev.Now().Add(time.Duration(i%7)*time.Millisecond),
						func(*tevent.Timer, time.Time) { req.Done(i) })
				}
			})
			req.SetCallback(func(req *tevent.Req[int]) {
				v, err := req.Recv()
				if err != nil {
					t.Errorf("job %d: Recv: %v", i, err)
				}
				busy = false
				received = append(received, v)
			})
		}
		if got := q.Len(); got != n {
			t.Fatalf("Len after %d adds = %d", n, got)
		}
		loopWait(t, ev)
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		if diff := cmp.Diff(want, triggered); diff != "" {
			t.Errorf("trigger order mismatch (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want, received); diff != "" {
			t.Errorf("receive order mismatch (-want +got):\n%s", diff)
		}
		if q.Len() != 0 {
			t.Errorf("Len at the end = %d, want 0", q.Len())
		}
	})
}

func TestAddNeverTriggersInline(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		ran := 0
		req := tevent.NewReq[int](ev)
		q.Add(req, func() { ran++ })
		if ran != 0 {
			t.Fatal("Add ran the trigger inside the call")
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if ran != 1 {
			t.Fatalf("trigger ran %d times after one iteration, want 1", ran)
		}
		// Nothing more is scheduled: the head is triggered exactly once.
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce with a triggered head = %v, want ErrNoEvents", err)
		}
		if ran != 1 || q.Len() != 1 {
			t.Fatalf("ran %d, Len %d; want 1, 1", ran, q.Len())
		}
	})
}

func TestAddOptimizeEmpty(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cases := []struct {
			name   string
			setup  func(q *tqueue.Queue, req *tevent.Req[int])
			inline bool
		}{
			{"empty, running, no callback", func(*tqueue.Queue, *tevent.Req[int]) {}, true},
			{"callback set", func(_ *tqueue.Queue, req *tevent.Req[int]) { req.SetCallback(receive[int]) }, false},
			{"stopped", func(q *tqueue.Queue, _ *tevent.Req[int]) { q.Stop() }, false},
			{"not empty", func(q *tqueue.Queue, _ *tevent.Req[int]) {
				q.Add(tevent.NewReq[int](ev), nil)
			}, false},
		}
		for _, tc := range cases {
			q := tqueue.New(ev, tc.name)
			req := tevent.NewReq[int](ev)
			tc.setup(q, req)
			ran := false
			q.AddOptimizeEmpty(req, func() { ran = true })
			if ran != tc.inline {
				t.Errorf("%s: trigger ran inside AddOptimizeEmpty = %v, want %v", tc.name, ran, tc.inline)
			}
		}
	})
}

// TestAddOptimizeEmptyPost is the Send-function pattern: the trigger runs
// inside AddOptimizeEmpty and finishes the request, and Post makes the
// callback set afterwards run.
func TestAddOptimizeEmptyPost(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		send := func(v int) *tevent.Req[int] {
			req := tevent.NewReq[int](ev)
			q.AddOptimizeEmpty(req, func() { req.Done(v) })
			if !req.IsInProgress() {
				return req.Post()
			}
			return req
		}
		var got []int
		for i := range 3 {
			send(i).SetCallback(func(req *tevent.Req[int]) {
				v, err := req.Recv()
				if err != nil {
					t.Errorf("Recv: %v", err)
				}
				got = append(got, v)
			})
		}
		loopWait(t, ev)
		if diff := cmp.Diff([]int{0, 1, 2}, got); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
		if q.Len() != 0 {
			t.Fatalf("Len = %d, want 0", q.Len())
		}
	})
}

// TestTriggerFinishesSynchronously: a trigger that finishes its own request,
// whose callback receives it at once, must not run the next trigger inside
// its own call stack; the next one runs on a later iteration.
func TestTriggerFinishesSynchronously(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "sync")
		depth := 0
		var iters []uint64
		const n = 5
		for i := range n {
			req := tevent.NewReq[int](ev)
			req.SetCallback(receive[int])
			q.Add(req, func() {
				depth++
				defer func() { depth-- }()
				if depth != 1 {
					t.Errorf("trigger %d runs nested, depth %d", i, depth)
				}
				iters = append(iters, ev.Iterations())
				req.Done(i) // calls back, which receives: the entry leaves here
				if q.Len() != n-i-1 {
					t.Errorf("after Done+Recv of %d: Len = %d, want %d", i, q.Len(), n-i-1)
				}
			})
		}
		loopWait(t, ev)
		if len(iters) != n {
			t.Fatalf("%d triggers ran, want %d", len(iters), n)
		}
		for i := 1; i < n; i++ {
			if iters[i] <= iters[i-1] {
				t.Errorf("trigger %d ran in iteration %d, not after trigger %d's (%d)", i, iters[i], i-1, iters[i-1])
			}
		}
	})
}

// TestTriggerAbandonsNext: the head abandons the entry behind it, which
// leaves the queue without its trigger or callback ever running.
func TestTriggerAbandonsNext(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		var log []string
		reqs := map[string]*tevent.Req[string]{}
		for _, name := range []string{"a", "b", "c"} {
			req := tevent.NewReq[string](ev)
			reqs[name] = req
			req.SetCallback(func(req *tevent.Req[string]) {
				v, _ := req.Recv()
				log = append(log, "done "+v)
			})
			req.SetCleanupFn(func(st tevent.State) {
				if st == tevent.StateReceived {
					log = append(log, "released "+name)
				}
			})
			q.Add(req, func() {
				log = append(log, "trigger "+name)
				if name == "a" {
					reqs["b"].Abandon()
					log = append(log, fmt.Sprintf("len %d", q.Len()))
				}
				req.Done(name)
			})
		}
		loopWait(t, ev)
		want := []string{
			"trigger a", "released b", "len 2", "released a", "done a",
			"trigger c", "released c", "done c",
		}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestAbandonedWaiter: an entry abandoned while it waits leaves at once and
// its trigger never runs.
func TestAbandonedWaiter(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		var log []string
		a := tevent.NewReq[int](ev)
		a.SetCallback(receive[int])
		q.Add(a, func() { log = append(log, "trigger a") })
		b := tevent.NewReq[int](ev)
		b.SetCallback(func(*tevent.Req[int]) { log = append(log, "callback b") })
		q.Add(b, func() { log = append(log, "trigger b") })
		c := tevent.NewReq[int](ev)
		c.SetCallback(receive[int])
		q.Add(c, func() { log = append(log, "trigger c"); c.Done(3) })

		loopWait(t, ev) // a is triggered and stays in flight
		b.Abandon()
		log = append(log, fmt.Sprintf("len %d", q.Len()))
		loopWait(t, ev)
		a.Done(1) // received by its callback: c goes next
		loopWait(t, ev)
		log = append(log, fmt.Sprintf("len %d", q.Len()))
		want := []string{"trigger a", "len 2", "trigger c", "len 0"}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestAbandonHead: abandoning the triggered head lets the next one go.
func TestAbandonHead(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		var log []string
		a := tevent.NewReq[int](ev)
		q.Add(a, func() { log = append(log, "trigger a") })
		b := tevent.NewReq[int](ev)
		q.Add(b, func() { log = append(log, "trigger b") })
		loopWait(t, ev)
		a.Abandon()
		loopWait(t, ev)
		if diff := cmp.Diff([]string{"trigger a", "trigger b"}, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
		if q.Len() != 1 {
			t.Fatalf("Len = %d, want 1", q.Len())
		}
	})
}

func TestStopStart(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		var log []string
		reqs := make([]*tevent.Req[int], 3)
		for i := range reqs {
			req := tevent.NewReq[int](ev)
			reqs[i] = req
			req.SetCallback(receive[int])
			q.Add(req, func() { log = append(log, fmt.Sprintf("trigger %d", i)) })
		}
		q.Stop()
		q.Stop() // twice is fine
		if q.Running() {
			t.Fatal("Running after Stop")
		}
		loopWait(t, ev) // the immediate scheduled by Add finds the queue stopped
		if len(log) != 0 {
			t.Fatalf("triggers ran on a stopped queue: %v", log)
		}

		q.Start()
		if !q.Running() {
			t.Fatal("not Running after Start")
		}
		q.Start() // twice schedules nothing more
		loopWait(t, ev)

		// Stop with the head triggered: it stays triggered and finishes;
		// the next waits for Start.
		q.Stop()
		reqs[0].Done(0)
		loopWait(t, ev)
		log = append(log, fmt.Sprintf("len %d", q.Len()))
		q.Start()
		loopWait(t, ev)

		// Stop and Start within one turn: triggered once, not twice.
		reqs[1].Done(1)
		q.Stop()
		q.Start()
		loopWait(t, ev)
		reqs[2].Done(2)
		loopWait(t, ev)
		log = append(log, fmt.Sprintf("len %d", q.Len()))

		want := []string{"trigger 0", "len 2", "trigger 1", "trigger 2", "len 0"}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestStoppedQueueAdds: entries added to a stopped queue wait, and an
// entry leaving a stopped queue does not trigger the next.
func TestStoppedQueueAdds(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		q.Stop()
		var log []string
		a := tevent.NewReq[int](ev)
		q.Add(a, func() { log = append(log, "a") })
		b := tevent.NewReq[int](ev)
		q.AddOptimizeEmpty(b, func() { log = append(log, "b") })
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce = %v, want ErrNoEvents: a stopped queue schedules nothing", err)
		}
		a.Abandon()
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce = %v, want ErrNoEvents", err)
		}
		q.Start()
		loopWait(t, ev)
		if diff := cmp.Diff([]string{"b"}, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestUntrigger is the winbindd pattern: a trigger that cannot make progress
// stops the queue and untriggers itself; Start triggers it again.
func TestUntrigger(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		var log []string
		ready := false
		a := tevent.NewReq[int](ev)
		a.SetCallback(receive[int])
		var ea *tqueue.Entry
		ea = q.Add(a, func() {
			if !ready {
				log = append(log, "a not ready")
				if ea.Untrigger() {
					t.Error("Untrigger on a running queue reported true")
				}
				q.Stop()
				if !ea.Untrigger() {
					t.Error("Untrigger of the stopped head reported false")
				}
				return
			}
			log = append(log, "a runs")
			a.Done(1)
		})
		b := tevent.NewReq[int](ev)
		b.SetCallback(receive[int])
		eb := q.Add(b, func() { log = append(log, "b runs"); b.Done(2) })
		loopWait(t, ev)
		if eb.Untrigger() {
			t.Error("Untrigger of an entry that is not the head reported true")
		}
		ready = true
		q.Start()
		loopWait(t, ev)
		want := []string{"a not ready", "a runs", "b runs"}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
		if ea.Untrigger() || eb.Untrigger() {
			t.Error("Untrigger of an entry that left reported true")
		}
	})
}

// TestUntriggerThenStartInsideTrigger: re-arming and starting inside the
// trigger runs it again on a later turn, not recursively.
func TestUntriggerThenStartInsideTrigger(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		runs, depth := 0, 0
		req := tevent.NewReq[int](ev)
		req.SetCallback(receive[int])
		var e *tqueue.Entry
		e = q.Add(req, func() {
			depth++
			defer func() { depth-- }()
			if depth != 1 {
				t.Errorf("trigger nested, depth %d", depth)
			}
			runs++
			if runs < 3 {
				q.Stop()
				e.Untrigger()
				q.Start()
				return
			}
			req.Done(0)
		})
		loopWait(t, ev)
		if runs != 3 || q.Len() != 0 {
			t.Fatalf("runs %d, Len %d; want 3, 0", runs, q.Len())
		}
	})
}

// TestBlocker: a nil trigger holds the queue until its request is
// received, whoever finishes it; Untrigger does not apply to it.
func TestBlocker(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		var log []string
		blk := tevent.NewReq[int](ev)
		eb := q.Add(blk, nil)
		next := tevent.NewReq[int](ev)
		q.Add(next, func() { log = append(log, "next") })
		loopWait(t, ev)
		q.Stop()
		if eb.Untrigger() {
			t.Error("Untrigger of a blocker reported true")
		}
		q.Start()
		loopWait(t, ev)
		blk.Done(0) // finished but not received: still holds the queue
		loopWait(t, ev)
		log = append(log, fmt.Sprintf("len %d", q.Len()))
		if _, err := blk.Recv(); err != nil {
			t.Fatal(err)
		}
		loopWait(t, ev)
		want := []string{"len 2", "next"}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestTimeoutWhileWaiting: a request whose end time passes while it waits
// fails with ErrTimedOut, is never triggered, and holds its place until it
// is received; a cancelled one likewise.
func TestTimeoutWhileWaiting(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		q := tqueue.New(ev, "q")
		var log []string
		logf := clockLogf(ev, &log)

		a := tevent.NewReq[int](ev)
		a.SetCallback(func(a *tevent.Req[int]) { _, err := a.Recv(); logf("a received %v", err) })
		q.Add(a, func() { logf("trigger a"); at(ev, 2*time.Second, func() { a.Done(1) }) })

		// b times out at 1s; its callback keeps it unreceived until 3s.
		b := tevent.NewReq[int](ev)
		b.SetEndTime(epoch.Add(time.Second))
		b.SetCallback(func(b *tevent.Req[int]) {
			logf("b finished %v", b.State())
			at(ev, 3*time.Second, func() {
				_, err := b.Recv()
				logf("b received, timed out: %v", errors.Is(err, tevent.ErrTimedOut))
			})
		})
		q.Add(b, func() { logf("trigger b") })

		// c is cancelled at 500ms and received at once.
		c := tevent.NewReq[int](ev)
		c.SetCancelFn(func() bool { return true })
		c.SetCallback(func(c *tevent.Req[int]) {
			_, err := c.Recv()
			logf("c received, cancelled: %v", errors.Is(err, tevent.ErrCancelled))
		})
		q.Add(c, func() { logf("trigger c") })
		at(ev, 500*time.Millisecond, func() { c.Cancel() })

		d := tevent.NewReq[int](ev)
		d.SetCallback(func(d *tevent.Req[int]) { _, err := d.Recv(); logf("d received %v", err) })
		q.Add(d, func() { logf("trigger d (len %d)", q.Len()); d.Done(4) })
		at(ev, 2500*time.Millisecond, func() { logf("len %d", q.Len()) })

		loopWait(t, ev)
		want := []string{
			"0s trigger a",
			"500ms c received, cancelled: true",
			"1s b finished timed out",
			"2s a received <nil>",
			"2.5s len 2",
			"3s b received, timed out: true",
			"3s trigger d (len 1)",
			"3s d received <nil>",
		}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestFinishedBeforeAdd: a request finished before it is added is never
// triggered and holds the queue until received; one already received never
// joins.
func TestFinishedBeforeAdd(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		var log []string

		gone := tevent.NewReq[int](ev)
		gone.Done(0)
		_, _ = gone.Recv()
		q.Add(gone, func() { log = append(log, "trigger received") })
		log = append(log, fmt.Sprintf("len %d", q.Len()))

		done := tevent.NewReq[int](ev)
		done.Done(1)
		q.AddOptimizeEmpty(done, func() { log = append(log, "trigger done") })
		next := tevent.NewReq[int](ev)
		q.Add(next, func() { log = append(log, "trigger next") })
		loopWait(t, ev)
		log = append(log, fmt.Sprintf("len %d", q.Len()))
		_, _ = done.Recv()
		loopWait(t, ev)
		want := []string{"len 0", "len 2", "trigger next"}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestOneRequestTwoQueues: a request in two queues leaves both when it is
// received.
func TestOneRequestTwoQueues(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q1, q2 := tqueue.New(ev, "q1"), tqueue.New(ev, "q2")
		req := tevent.NewReq[int](ev)
		req.SetCallback(receive[int])
		q1.Add(req, nil)
		q2.Add(req, func() { req.Done(0) })
		loopWait(t, ev)
		if q1.Len() != 0 || q2.Len() != 0 {
			t.Fatalf("Len %d, %d; want 0, 0", q1.Len(), q2.Len())
		}
	})
}

// TestRequestReleasedIgnoresStrangers: the exported hook does nothing for a
// request that is not the entry's.
func TestRequestReleasedIgnoresStrangers(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		e := q.Add(tevent.NewReq[int](ev), nil)
		var hook tevent.ReleaseHook = e
		hook.RequestReleased(tevent.NewReq[int](ev))
		hook.RequestReleased(nil)
		if q.Len() != 1 {
			t.Fatalf("Len = %d, want 1", q.Len())
		}
	})
}

func TestAddPanics(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev, other := newCtx(), newCtx()
		q := tqueue.New(ev, "mine")
		wantPanic := func(name, substr string, fn func()) {
			t.Helper()
			defer func() {
				t.Helper()
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), substr) {
					t.Errorf("%s: panic %v, want one mentioning %q", name, r, substr)
				}
			}()
			fn()
		}
		wantPanic("other context", "another context", func() { q.Add(tevent.NewReq[int](other), func() {}) })
		wantPanic("WaitSend other context", "another context", func() { tqueue.WaitSend(other, q) })
		wantPanic("BelowSend other context", "another context", func() { tqueue.BelowSend(other, q, 0) })
		wantPanic("nil request", "nil request", func() { q.Add(nil, func() {}) })
		wantPanic("nil context", "nil context", func() { tqueue.New(nil, "x") })
		wantPanic("negative limit", "negative limit", func() { tqueue.New(ev, "x", tqueue.WithLimit(-1)) })
		if q.Len() != 0 {
			t.Fatalf("Len = %d after refused adds", q.Len())
		}
	})
}

// TestClosedContext: after the context is closed no trigger runs, and
// adding, receiving and abandoning do not panic.
func TestClosedContext(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q")
		ran := 0
		trig := func() { ran++ }
		a := tevent.NewReq[int](ev)
		q.Add(a, trig)
		b := tevent.NewReq[int](ev)
		q.Add(b, trig)
		w := tqueue.WaitSend(ev, q)
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrClosed) {
			t.Fatalf("LoopOnce after Close = %v, want ErrClosed", err)
		}
		c := tevent.NewReq[int](ev)
		q.AddOptimizeEmpty(c, trig)
		a.Abandon()
		b.Done(2)
		_, _ = b.Recv()
		w.Abandon()
		c.Abandon()
		q.Stop()
		q.Start()
		d := tevent.NewReq[int](ev)
		q.AddOptimizeEmpty(d, trig) // empty, running, no callback: but closed
		if ran != 0 {
			t.Fatalf("%d triggers ran on a closed context", ran)
		}
		if q.Len() != 1 {
			t.Fatalf("Len = %d, want 1", q.Len())
		}
	})
}
