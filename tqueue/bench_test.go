package tqueue_test

import (
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
)

func benchContext(b *testing.B) *tevent.Context {
	b.Helper()
	ev, err := tevent.NewContext()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ev.Close() })
	return ev
}

// BenchmarkRoundTrip is one entry's full life: Add, the trigger from an
// immediate finishing the request, and the callback receiving it. The
// trigger and callback are made once, so the allocations counted are the
// request's and the queue's.
func BenchmarkRoundTrip(b *testing.B) {
	ev := benchContext(b)
	q := tqueue.New(ev, "bench")
	var cur *tevent.Req[int]
	trigger := func() { cur.Done(1) }
	callback := func(req *tevent.Req[int]) { _, _ = req.Recv() }
	b.ReportAllocs()
	for b.Loop() {
		cur = tevent.NewReq[int](ev)
		cur.SetCallback(callback)
		q.Add(cur, trigger)
		if err := ev.LoopOnce(); err != nil {
			b.Fatal(err)
		}
	}
	if q.Len() != 0 {
		b.Fatalf("Len = %d", q.Len())
	}
}

// BenchmarkRoundTripOptimizeEmpty is the same through AddOptimizeEmpty on an
// empty queue: the trigger runs inside the call, no loop turn is needed.
func BenchmarkRoundTripOptimizeEmpty(b *testing.B) {
	ev := benchContext(b)
	q := tqueue.New(ev, "bench")
	var cur *tevent.Req[int]
	trigger := func() { cur.Done(1) }
	b.ReportAllocs()
	for b.Loop() {
		cur = tevent.NewReq[int](ev)
		q.AddOptimizeEmpty(cur, trigger)
		if _, err := cur.Recv(); err != nil {
			b.Fatal(err)
		}
	}
	if q.Len() != 0 {
		b.Fatalf("Len = %d", q.Len())
	}
}

// BenchmarkPipeline keeps 256 entries queued: the cost per entry of a busy
// queue, one loop turn each.
func BenchmarkPipeline(b *testing.B) {
	const depth = 256
	ev := benchContext(b)
	q := tqueue.New(ev, "bench")
	var ring [depth]*tevent.Req[int]
	head, tail := 0, 0
	trigger := func() { ring[head%depth].Done(1) }
	callback := func(req *tevent.Req[int]) {
		_, _ = req.Recv()
		head++
	}
	b.ReportAllocs()
	for b.Loop() {
		if tail-head == depth {
			if err := ev.LoopOnce(); err != nil {
				b.Fatal(err)
			}
		}
		req := tevent.NewReq[int](ev)
		req.SetCallback(callback)
		ring[tail%depth] = req
		tail++
		q.Add(req, trigger)
	}
	if err := ev.LoopWait(); err != nil {
		b.Fatal(err)
	}
	if q.Len() != 0 {
		b.Fatalf("Len = %d", q.Len())
	}
}

// BenchmarkWaitLock is one lock and unlock through WaitSend and WaitRecv.
func BenchmarkWaitLock(b *testing.B) {
	ev := benchContext(b)
	q := tqueue.New(ev, "lock")
	unlock := func(req *tevent.Req[struct{}]) { _ = tqueue.WaitRecv(req) }
	b.ReportAllocs()
	for b.Loop() {
		tqueue.WaitSend(ev, q).SetCallback(unlock)
		if err := ev.LoopOnce(); err != nil {
			b.Fatal(err)
		}
	}
	if q.Len() != 0 {
		b.Fatalf("Len = %d", q.Len())
	}
}

// BenchmarkNewReq is the baseline: the request alone, for comparison with
// the queue's allocations per entry.
func BenchmarkNewReq(b *testing.B) {
	ev := benchContext(b)
	b.ReportAllocs()
	for b.Loop() {
		req := tevent.NewReq[int](ev)
		req.Done(1)
		_, _ = req.Recv()
	}
}
