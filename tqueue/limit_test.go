package tqueue_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
)

// fill adds k blockers to q, each holding its place until its request is
// received or abandoned, and returns their requests.
func fill(t *testing.T, ev *tevent.Context, q *tqueue.Queue, k int) []*tevent.Req[int] {
	t.Helper()
	reqs := make([]*tevent.Req[int], k)
	for i := range reqs {
		reqs[i] = tevent.NewReq[int](ev)
		if q.Add(reqs[i], nil) == nil {
			t.Fatalf("fill: Add %d of %d refused, Len %d", i+1, k, q.Len())
		}
	}
	return reqs
}

// TestLimitRefuses: at its limit a queue queues nothing, returns a nil
// entry and fails the request with ErrFull from a later turn, so the
// callback set after Add runs; the trigger never does.
func TestLimitRefuses(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q", tqueue.WithLimit(2))
		var log []string
		for i := range 3 {
			req := tevent.NewReq[int](ev)
			e := q.Add(req, func() { log = append(log, fmt.Sprintf("trigger %d", i)) })
			log = append(log, fmt.Sprintf("add %d: entry %v, len %d, state %v", i, e != nil, q.Len(), req.State()))
			req.SetCallback(func(req *tevent.Req[int]) {
				_, err := req.Recv()
				log = append(log, fmt.Sprintf("callback %d: ErrFull %v, ENOBUFS %v, len %d",
					i, errors.Is(err, tqueue.ErrFull), errors.Is(err, syscall.ENOBUFS), q.Len()))
			})
		}
		loopWait(t, ev)
		want := []string{
			"add 0: entry true, len 1, state in progress",
			"add 1: entry true, len 2, state in progress",
			"add 2: entry false, len 2, state error",
			"trigger 0",
			"callback 2: ErrFull true, ENOBUFS true, len 2",
		}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestLimitFreesAsReceived: room is made as entries are received or
// abandoned, not as their requests finish; Len never passes the limit.
func TestLimitFreesAsReceived(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q", tqueue.WithLimit(2))
		held := fill(t, ev, q, 2)
		try := func() bool {
			req := tevent.NewReq[int](ev)
			req.SetCallback(receive[int])
			e := q.Add(req, nil)
			if q.Len() > 2 {
				t.Fatalf("Len = %d past the limit", q.Len())
			}
			if e != nil {
				held = append(held, req)
			}
			return e != nil
		}
		var log []string
		step := func(what string) { log = append(log, fmt.Sprintf("%s: add %v, len %d", what, try(), q.Len())) }
		step("full")
		held[0].Done(0)
		step("head done, not received")
		_, _ = held[0].Recv()
		step("head received")
		held[1].Abandon()
		step("second abandoned")
		step("full again")
		loopWait(t, ev) // the refused requests' callbacks receive them
		log = append(log, fmt.Sprintf("len %d", q.Len()))
		want := []string{
			"full: add false, len 2",
			"head done, not received: add false, len 2",
			"head received: add true, len 2",
			"second abandoned: add true, len 2",
			"full again: add false, len 2",
			"len 2",
		}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestLimitOptimizeEmpty: AddOptimizeEmpty and WaitSend are refused at the
// limit as Add is, and the Send pattern that posts a finished request
// still calls back once.
func TestLimitOptimizeEmpty(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q", tqueue.WithLimit(1))
		ran := 0
		send := func() (*tevent.Req[int], *tqueue.Entry) {
			req := tevent.NewReq[int](ev)
			e := q.AddOptimizeEmpty(req, func() { ran++ })
			if !req.IsInProgress() {
				return req.Post(), e
			}
			return req, e
		}
		// Empty: triggered inside the call, and holds the queue.
		if first, e := send(); e == nil || ran != 1 || !first.IsInProgress() {
			t.Fatalf("first: entry %v, %d triggers run, state %v", e != nil, ran, first.State())
		}
		refused, e := send()
		if e != nil {
			t.Fatal("AddOptimizeEmpty at the limit returned an entry")
		}
		var log []string
		refused.SetCallback(func(req *tevent.Req[int]) {
			_, err := req.Recv()
			log = append(log, fmt.Sprintf("optimize-empty: %v", err))
		})
		tqueue.WaitSend(ev, q).SetCallback(func(req *tevent.Req[struct{}]) {
			log = append(log, fmt.Sprintf("wait: %v", tqueue.WaitRecv(req)))
		})
		loopWait(t, ev)
		want := []string{"optimize-empty: " + tqueue.ErrFull.Error(), "wait: " + tqueue.ErrFull.Error()}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
		if ran != 1 || q.Len() != 1 {
			t.Fatalf("%d triggers run, Len %d; want 1, 1", ran, q.Len())
		}
	})
}

// TestLimitFinishedRequests: at the limit, a request that has finished
// keeps its own result and one already received is left alone, as Add
// leaves it on any queue.
func TestLimitFinishedRequests(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q", tqueue.WithLimit(1))
		fill(t, ev, q, 1)
		done := tevent.NewReq[int](ev)
		done.Done(7)
		if e := q.Add(done, nil); e != nil {
			t.Error("Add of a finished request to a full queue returned an entry")
		}
		if v, err := done.Recv(); v != 7 || err != nil {
			t.Errorf("finished request: Recv = %d, %v; want 7, nil", v, err)
		}
		if e := q.Add(done, nil); e == nil || e.Untrigger() {
			t.Error("Add of a received request: want an entry that is not in the queue")
		}
		if q.Len() != 1 {
			t.Fatalf("Len = %d, want 1", q.Len())
		}
	})
}

// TestNoLimit: without WithLimit, or with WithLimit(0), a queue takes any
// number of entries.
func TestNoLimit(t *testing.T) {
	const n = 1000
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		for _, q := range []*tqueue.Queue{tqueue.New(ev, "default"), tqueue.New(ev, "zero", tqueue.WithLimit(0))} {
			reqs := fill(t, ev, q, n)
			if q.Len() != n {
				t.Fatalf("%s: Len = %d, want %d", q.Name(), q.Len(), n)
			}
			for _, req := range reqs {
				req.Abandon()
			}
		}
	})
}

// TestLimitClosedContext: after Close a full queue still refuses, and the
// refused request's callback never runs, since nothing runs after Close.
func TestLimitClosedContext(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		q := tqueue.New(ev, "q", tqueue.WithLimit(1))
		fill(t, ev, q, 1)
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		req := tevent.NewReq[int](ev)
		req.SetCallback(func(*tevent.Req[int]) { t.Error("callback ran after Close") })
		if q.Add(req, func() { t.Error("trigger ran") }) != nil {
			t.Fatal("Add to a full queue returned an entry")
		}
		if _, err := req.Recv(); !errors.Is(err, tqueue.ErrFull) {
			t.Fatalf("Recv = %v, want ErrFull", err)
		}
	})
}
