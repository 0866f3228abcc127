package docs_test

import (
	"fmt"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
)

// jobSend runs a job that takes d through q: the trigger starts it once
// every job queued before it has been received.
func jobSend(ev *tevent.Context, q *tqueue.Queue, name string, d time.Duration) *tevent.Req[string] {
	req := tevent.NewReq[string](ev)
	q.AddOptimizeEmpty(req, func() {
		subreq := tevent.WakeupSend(ev, ev.Now().Add(d))
		req.AddSubreq(subreq)
		subreq.SetCallback(func(subreq *tevent.Req[struct{}]) {
			if req.Error(tevent.WakeupRecv(subreq)) {
				return
			}
			req.Done(name)
		})
	})
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// Three jobs of 30ms, 10ms and 10ms run one after the other, in the order
// queued; without the queue the short ones would finish first.
func Example_queue() {
	ev := newFakeContext()
	defer ev.Close()
	q := tqueue.New(ev, "jobs")

	for _, job := range []struct {
		name string
		d    time.Duration
	}{{"a", 30 * time.Millisecond}, {"b", 10 * time.Millisecond}, {"c", 10 * time.Millisecond}} {
		req := jobSend(ev, q, job.name, job.d)
		req.SetCallback(func(req *tevent.Req[string]) {
			name, err := req.Recv() // leaving the queue: the next job starts
			fmt.Println(name, "done at", ev.Now().Sub(guideStart), err)
		})
	}
	fmt.Println("queued:", q.Len())
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// queued: 3
	// a done at 30ms <nil>
	// b done at 40ms <nil>
	// c done at 50ms <nil>
}

// writeBlock writes lines to the log one at a time, pausing between them,
// while holding lock, so that no other writer's lines come in between.
func writeBlock(ev *tevent.Context, lock *tqueue.Queue, log func(string), who string, lines int) {
	req := tqueue.WaitSend(ev, lock)
	req.SetEndTime(ev.Now().Add(time.Minute)) // give up waiting for the lock
	req.SetCallback(func(req *tevent.Req[struct{}]) {
		if req.State() != tevent.StateDone {
			fmt.Println(who, "never got the lock:", tqueue.WaitRecv(req))
			return
		}
		var next func(i int)
		next = func(i int) {
			if i == lines {
				tqueue.WaitRecv(req) // unlock: the next writer goes
				return
			}
			log(fmt.Sprintf("%s %d/%d", who, i+1, lines))
			tevent.WakeupSend(ev, ev.Now().Add(time.Second)).SetCallback(func(pause *tevent.Req[struct{}]) {
				tevent.WakeupRecv(pause)
				next(i + 1)
			})
		}
		next(0)
	})
}

// Two writers, each writing a block of lines over several seconds; the
// queue used as a lock keeps each block together.
func Example_queueLock() {
	ev := newFakeContext()
	defer ev.Close()
	lock := tqueue.New(ev, "log lock")
	log := func(line string) { fmt.Printf("+%v %s\n", ev.Now().Sub(guideStart), line) }

	writeBlock(ev, lock, log, "alice", 2)
	writeBlock(ev, lock, log, "bob", 3)
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// +0s alice 1/2
	// +1s alice 2/2
	// +2s bob 1/3
	// +3s bob 2/3
	// +4s bob 3/3
}
