package tqueue_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
)

// Jobs added to a queue run one at a time, in the order added, each started
// only once the previous one's result has been received. Here each job is
// a delay of a different length, so without the queue they would finish in
// the reverse order.
func ExampleQueue_Add() {
	ev, err := tevent.NewContext()
	if err != nil {
		panic(err)
	}
	defer ev.Close()
	q := tqueue.New(ev, "jobs")

	// jobSend queues a job that sleeps for d and returns its name.
	jobSend := func(name string, d time.Duration) *tevent.Req[string] {
		req := tevent.NewReq[string](ev)
		q.Add(req, func() {
			fmt.Println("start", name)
			subreq := tevent.WakeupSend(ev, ev.Now().Add(d))
			req.AddSubreq(subreq)
			subreq.SetCallback(func(subreq *tevent.Req[struct{}]) {
				if req.Error(tevent.WakeupRecv(subreq)) {
					return
				}
				req.Done(name)
			})
		})
		return req
	}

	for i, name := range []string{"first", "second", "third"} {
		req := jobSend(name, time.Duration(3-i)*time.Millisecond)
		req.SetCallback(func(req *tevent.Req[string]) {
			name, err := req.Recv() // the next job starts after this
			fmt.Println("done", name, err)
		})
	}
	fmt.Println("queued", q.Len())
	if err := ev.LoopWait(); err != nil {
		panic(err)
	}
	// Output:
	// queued 3
	// start first
	// done first <nil>
	// start second
	// done second <nil>
	// start third
	// done third <nil>
}

// A queue used as a lock: WaitSend finishes when the caller reaches the
// head, and the queue stays held until WaitRecv. Each holder here keeps the
// lock across asynchronous work, a timer; the others wait their turn.
func ExampleWaitSend() {
	ev, err := tevent.NewContext(tevent.WithClock(tevent.NewFakeClock(time.Unix(0, 0))))
	if err != nil {
		panic(err)
	}
	defer ev.Close()
	lock := tqueue.New(ev, "lock")

	for _, holder := range []string{"alice", "bob", "carol"} {
		req := tqueue.WaitSend(ev, lock)
		req.SetCallback(func(req *tevent.Req[struct{}]) {
			fmt.Printf("%s locks (%d in line)\n", holder, lock.Len())
			ev.AddTimer(ev.Now().Add(time.Second), func(*tevent.Timer, time.Time) {
				fmt.Printf("%s unlocks\n", holder)
				if err := tqueue.WaitRecv(req); err != nil {
					fmt.Println("error:", err)
				}
			})
		})
	}
	if err := ev.LoopWait(); err != nil {
		panic(err)
	}
	// Output:
	// alice locks (3 in line)
	// alice unlocks
	// bob locks (2 in line)
	// bob unlocks
	// carol locks (1 in line)
	// carol unlocks
}

// A queue made with WithLimit refuses past its limit: the request fails
// with ErrFull. A producer that would rather wait than drop its work
// waits for room with BelowSend and adds again. Here four jobs of a
// second each meet a queue that holds two; the two refused wait, and the
// last waits on when the room it was woken for is taken first.
func ExampleBelowSend() {
	start := time.Unix(0, 0)
	ev, err := tevent.NewContext(tevent.WithClock(tevent.NewFakeClock(start)))
	if err != nil {
		panic(err)
	}
	defer ev.Close()
	const limit = 2
	q := tqueue.New(ev, "jobs", tqueue.WithLimit(limit))
	logf := func(format string, args ...any) {
		fmt.Printf("%v: %s\n", ev.Now().Sub(start), fmt.Sprintf(format, args...))
	}

	// jobSend queues a job that takes a second.
	jobSend := func(name string) *tevent.Req[string] {
		req := tevent.NewReq[string](ev)
		q.Add(req, func() {
			logf("start %s", name)
			ev.AddTimer(ev.Now().Add(time.Second), func(*tevent.Timer, time.Time) { req.Done(name) })
		})
		return req
	}

	// produce queues a job and, if the queue is full, waits for room
	// (at most limit-1 entries) and tries again.
	var produce func(name string)
	produce = func(name string) {
		jobSend(name).SetCallback(func(req *tevent.Req[string]) {
			_, err := req.Recv()
			if errors.Is(err, tqueue.ErrFull) {
				logf("%s refused, %d queued", name, q.Len())
				tqueue.BelowSend(ev, q, limit-1).SetCallback(func(wait *tevent.Req[struct{}]) {
					if err := tqueue.BelowRecv(wait); err != nil {
						logf("%s: %v", name, err)
						return
					}
					logf("room for %s", name)
					produce(name)
				})
				return
			}
			logf("%s done, err %v", name, err)
		})
	}

	for _, name := range []string{"a", "b", "c", "d"} {
		produce(name)
	}
	if err := ev.LoopWait(); err != nil {
		panic(err)
	}
	// Output:
	// 0s: start a
	// 0s: c refused, 2 queued
	// 0s: d refused, 2 queued
	// 1s: a done, err <nil>
	// 1s: room for c
	// 1s: start b
	// 2s: b done, err <nil>
	// 2s: room for d
	// 2s: start c
	// 3s: c done, err <nil>
	// 3s: start d
	// 4s: d done, err <nil>
}
