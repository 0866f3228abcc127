package tqueue_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
)

// TestWaitSendLock uses a queue as a lock held across asynchronous work by
// three holders: each gets it in turn and keeps it until WaitRecv, however
// long its work takes.
func TestWaitSendLock(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		lock := tqueue.New(ev, "lock")
		var log []string
		holder := -1
		for i := range 3 {
			req := tqueue.WaitSend(ev, lock)
			req.SetCallback(func(req *tevent.Req[struct{}]) {
				if holder != -1 {
					t.Errorf("holder %d acquired while %d holds the lock", i, holder)
				}
				holder = i
				log = append(log, fmt.Sprintf("%v acquire %d len %d", ev.Now().Sub(epoch), i, lock.Len()))
				// Work that spans turns of the loop: the lock stays held.
				work := tevent.WakeupSend(ev, ev.Now().Add(time.Duration(3-i)*time.Second))
				work.SetCallback(func(work *tevent.Req[struct{}]) {
					if err := tevent.WakeupRecv(work); err != nil {
						t.Errorf("wakeup: %v", err)
					}
					log = append(log, fmt.Sprintf("%v release %d", ev.Now().Sub(epoch), i))
					holder = -1
					if err := tqueue.WaitRecv(req); err != nil {
						t.Errorf("WaitRecv(%d): %v", i, err)
					}
				})
			})
		}
		if err := tqueue.WaitRecv(tqueue.WaitSend(ev, tqueue.New(ev, "other"))); !errors.Is(err, tevent.ErrInProgress) {
			t.Errorf("WaitRecv before the head = %v, want ErrInProgress", err)
		}
		loopWait(t, ev)
		want := []string{
			"0s acquire 0 len 3", "3s release 0",
			"3s acquire 1 len 2", "5s release 1",
			"5s acquire 2 len 1", "6s release 2",
		}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
		if lock.Len() != 0 {
			t.Fatalf("Len = %d, want 0", lock.Len())
		}
	})
}

// TestWaitSendTimeout: a waiter whose end time passes while another holds
// the lock fails with ErrTimedOut and, once received, leaves without ever
// holding it.
func TestWaitSendTimeout(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		lock := tqueue.New(ev, "lock")
		var log []string
		logf := clockLogf(ev, &log)
		first := tqueue.WaitSend(ev, lock)
		first.SetCallback(func(req *tevent.Req[struct{}]) {
			logf("first acquired")
			ev.AddTimer(epoch.Add(5*time.Second), func(*tevent.Timer, time.Time) {
				logf("first releases, err %v", tqueue.WaitRecv(req))
			})
		})
		impatient := tqueue.WaitSend(ev, lock)
		impatient.SetEndTime(epoch.Add(time.Second))
		impatient.SetCallback(func(req *tevent.Req[struct{}]) {
			err := tqueue.WaitRecv(req)
			logf("impatient gives up, timed out %v, len %d", errors.Is(err, tevent.ErrTimedOut), lock.Len())
		})
		last := tqueue.WaitSend(ev, lock)
		last.SetCallback(func(req *tevent.Req[struct{}]) {
			logf("last acquired, len %d", lock.Len())
			if err := tqueue.WaitRecv(req); err != nil {
				t.Errorf("WaitRecv: %v", err)
			}
		})
		loopWait(t, ev)
		want := []string{
			"0s first acquired",
			"1s impatient gives up, timed out true, len 2",
			"5s first releases, err <nil>",
			"5s last acquired, len 1",
		}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestWaitSendAbandon: abandoning the holder unlocks; abandoning a waiter
// drops it from the line.
func TestWaitSendAbandon(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		lock := tqueue.New(ev, "lock")
		var log []string
		reqs := make([]*tevent.Req[struct{}], 3)
		for i := range reqs {
			reqs[i] = tqueue.WaitSend(ev, lock)
			reqs[i].SetCallback(func(*tevent.Req[struct{}]) { log = append(log, fmt.Sprintf("acquire %d", i)) })
		}
		loopWait(t, ev)
		reqs[1].Abandon()
		reqs[0].Abandon()
		loopWait(t, ev)
		log = append(log, fmt.Sprintf("len %d", lock.Len()))
		if err := tqueue.WaitRecv(reqs[2]); err != nil {
			t.Fatal(err)
		}
		log = append(log, fmt.Sprintf("len %d", lock.Len()))
		want := []string{"acquire 0", "acquire 2", "len 1", "len 0"}
		if diff := cmp.Diff(want, log); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}
