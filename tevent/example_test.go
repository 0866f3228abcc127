package tevent_test

import (
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gotevent/gotevent/tevent"
)

// A timer runs once at its deadline; its handler can re-arm it.
func ExampleContext_AddTimer() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// The fake clock makes the loop jump to each deadline instead of sleeping.
	ev, err := tevent.NewContext(tevent.WithClock(tevent.NewFakeClock(start)))
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()

	ticks := 0
	ev.AddTimer(start.Add(time.Second), func(te *tevent.Timer, now time.Time) {
		ticks++
		fmt.Printf("tick %d at +%v\n", ticks, now.Sub(start))
		if ticks < 3 {
			te.Reset(now.Add(time.Second))
		}
	})
	if err := ev.LoopWait(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// tick 1 at +1s
	// tick 2 at +2s
	// tick 3 at +3s
}

// fetchResult is what fetchSend delivers.
type fetchResult struct {
	attempts int
	took     time.Duration
}

// fetchSend composes subrequests the Samba way: it retries a flaky step,
// pausing with a wakeup between attempts, and gives up at a deadline.
func fetchSend(ev *tevent.Context, failures int, deadline time.Time) *tevent.Req[fetchResult] {
	req := tevent.NewReq[fetchResult](ev)
	state := &struct {
		start    time.Time
		attempts int
	}{start: ev.Now()}
	req.SetEndTime(deadline)

	var attempt func()
	attempt = func() {
		state.attempts++
		subreq := flakySend(ev, state.attempts <= failures)
		req.AddSubreq(subreq)
		subreq.SetCallback(func(subreq *tevent.Req[string]) {
			// fetchAttemptDone
			if _, err := subreq.Recv(); err != nil {
				pause := tevent.WakeupSend(ev, ev.Now().Add(100*time.Millisecond))
				req.AddSubreq(pause)
				pause.SetCallback(func(pause *tevent.Req[struct{}]) {
					// fetchPauseDone
					if req.Error(tevent.WakeupRecv(pause)) {
						return
					}
					attempt()
				})
				return
			}
			req.Done(fetchResult{state.attempts, ev.Now().Sub(state.start)})
		})
	}
	attempt()
	return req
}

func fetchRecv(req *tevent.Req[fetchResult]) (fetchResult, error) {
	return req.Recv()
}

// flakySend finishes on the next iteration, failing when told to. It
// finishes inside Send, so it returns req.Post().
func flakySend(ev *tevent.Context, fail bool) *tevent.Req[string] {
	req := tevent.NewReq[string](ev)
	if fail {
		req.Error(errors.New("flaky: try again"))
		return req.Post()
	}
	req.Done("payload")
	return req.Post()
}

// A composed request: FooSend starts subrequests and finishes from their
// callbacks; the caller sees one request with one result.
func ExampleReq_composed() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev, err := tevent.NewContext(tevent.WithClock(tevent.NewFakeClock(start)))
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()

	req := fetchSend(ev, 2, start.Add(time.Second))
	req.SetCallback(func(req *tevent.Req[fetchResult]) {
		res, err := fetchRecv(req)
		fmt.Printf("attempts=%d took=%v err=%v\n", res.attempts, res.took, err)
	})
	if err := ev.LoopWait(); err != nil {
		log.Fatal(err)
	}

	// The same request with too short a deadline fails with ErrTimedOut.
	slow := fetchSend(ev, 50, ev.Now().Add(time.Second))
	if err := slow.Poll(); err != nil {
		log.Fatal(err)
	}
	_, err = fetchRecv(slow)
	fmt.Println("slow:", err, errors.Is(err, tevent.ErrTimedOut))
	// Output:
	// attempts=3 took=200ms err=<nil>
	// slow: tevent: request timed out true
}

// Post is how other goroutines hand work to the loop.
func ExampleContext_Post() {
	ev, err := tevent.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()

	// A posted function that has not arrived yet is no event: without
	// something registered, the loop would return ErrNoEvents at once. A
	// watchdog timer keeps it waiting, and bounds the wait.
	watchdog := ev.AddTimer(ev.Now().Add(time.Minute), func(*tevent.Timer, time.Time) {
		log.Fatal("posts never arrived")
	})
	results := make([]int, 0, 3)
	for i := 1; i <= 3; i++ {
		go func() {
			// Runs on another goroutine; the function runs on the loop.
			if err := ev.Post(func() { results = append(results, i*i) }); err != nil {
				log.Print(err)
			}
		}()
	}
	if err := ev.LoopUntil(func() bool { return len(results) == 3 }); err != nil {
		log.Fatal(err)
	}
	watchdog.Cancel()
	sum := 0
	for _, r := range results {
		sum += r
	}
	fmt.Println("sum of squares:", sum)
	// Output:
	// sum of squares: 14
}

// CallSend reaches state that another loop owns: here a counter map that
// only the owner loop, on a goroutine of its own, may touch. Each call runs
// on the owner's loop, and its result comes back as a request on ev's loop,
// in the order the calls were sent.
func ExampleCallSend() {
	ev, err := tevent.NewContext()
	if err != nil {
		log.Fatal(err)
	}
	defer ev.Close()
	owner, err := tevent.NewContext()
	if err != nil {
		log.Fatal(err)
	}

	// The owner's loop waits for posted calls; a watchdog timer is the
	// event that keeps it waiting, and bounds the wait.
	counts := map[string]int{} // the owner's
	owner.AddTimer(owner.Now().Add(time.Minute), func(*tevent.Timer, time.Time) {
		log.Fatal("calls never arrived")
	})
	loopDone := make(chan error, 1)
	go func() { loopDone <- owner.LoopWait() }()

	for _, key := range []string{"a", "b", "a"} {
		req := tevent.CallSend(ev, owner, func() (int, error) {
			counts[key]++ // on the owner's loop
			return counts[key], nil
		})
		req.SetCallback(func(req *tevent.Req[int]) {
			n, err := tevent.CallRecv(req) // on ev's loop
			fmt.Println(key, n, err)
		})
	}
	// The calls in flight are ev's events: LoopWait returns once all
	// three have come back.
	if err := ev.LoopWait(); err != nil {
		log.Fatal(err)
	}

	// Close from this goroutine wakes the owner's loop, which tears down.
	if err := owner.Close(); err != nil {
		log.Fatal(err)
	}
	if err := <-loopDone; err != nil {
		log.Fatal(err)
	}
	// Output:
	// a 1 <nil>
	// b 1 <nil>
	// a 2 <nil>
}
