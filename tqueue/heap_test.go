package tqueue_test

import (
	"runtime"
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
)

// heapInuse returns the bytes in in-use heap spans after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestManyEntriesNoHeapGrowth runs 100 000 entries through one queue, all
// added up front (the worst case for a queue that keeps spare capacity),
// and checks that once they have all been received the heap is back where
// it started: the queue keeps nothing per entry that has left.
func TestManyEntriesNoHeapGrowth(t *testing.T) {
	const n = 100_000
	// Generous, as the collector may keep a few spans: 100 000 retained
	// entries would be over 6 MiB, their requests several times that, and
	// even a ring of 100 000 pointers kept as spare capacity 800 KB.
	const slack = 512 << 10
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "many")
		// Warm up the context's immediate queue before measuring.
		warm := tevent.NewReq[int](ev)
		warm.SetCallback(receive[int])
		q.Add(warm, func() { warm.Done(0) })
		loopWait(t, ev)

		before := heapInuse()
		next, received := 0, 0
		onDone := func(req *tevent.Req[int]) {
			v, err := req.Recv()
			if err != nil || v != received {
				t.Fatalf("request %d: Recv = %d, %v", received, v, err)
			}
			received++
		}
		for range n {
			req := tevent.NewReq[int](ev)
			req.SetCallback(onDone)
			// One closure per entry here is the test's, not the queue's.
			q.Add(req, func() { req.Done(next); next++ })
		}
		if q.Len() != n {
			t.Fatalf("Len = %d, want %d", q.Len(), n)
		}
		loopWait(t, ev)
		if received != n || q.Len() != 0 {
			t.Fatalf("received %d, Len %d; want %d, 0", received, q.Len(), n)
		}
		after := heapInuse()
		t.Logf("HeapInuse before %d, after %d (%+d bytes)", before, after, int64(after)-int64(before))
		if after > before+slack {
			t.Fatalf("HeapInuse grew by %d bytes over %d entries (bound %d)", after-before, n, slack)
		}
	})
}
