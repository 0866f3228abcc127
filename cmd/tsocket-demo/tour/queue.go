package tour

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
	"github.com/gotevent/gotevent/tsocket"
)

func (t *tour) pipelined() (string, error) {
	srv, cli, err := t.connected()
	if err != nil {
		return "", err
	}
	defer srv.Close()
	defer cli.Close()
	// Five replies queued at once: the queue keeps one writev in flight and
	// sends the next only when the previous was received.
	q := tqueue.New(t.ev, "replies")
	var want []byte
	pending := 0
	for i := 1; i <= 5; i++ {
		reply := fmt.Appendf(nil, "reply %d of 5\r\n", i)
		want = append(want, reply...)
		pending++
		req := tsocket.WritevQueueSend(t.ev, srv, q, [][]byte{reply})
		req.SetCallback(func(req *tevent.Req[int]) {
			tsocket.WritevQueueRecv(req)
			pending--
		})
	}
	queued := q.Len()
	got := make([]byte, len(want))
	if _, err := poll(tsocket.ReadvSend(t.ev, cli, [][]byte{got})); err != nil {
		return "", err
	}
	if err := t.ev.LoopUntil(func() bool { return pending == 0 }); err != nil {
		return "", err
	}
	if !bytes.Equal(got, want) {
		return "", fmt.Errorf("replies arrived as %q", got)
	}
	return fmt.Sprintf("%d writes queued at once arrived whole and in order (%d bytes)", queued, len(got)), nil
}

func (t *tour) queueLock() (string, error) {
	q := tqueue.New(t.ev, "lock")
	var order []string
	done := 0
	for _, name := range []string{"A", "B", "C"} {
		lock := tqueue.WaitSend(t.ev, q)
		lock.SetCallback(func(lock *tevent.Req[struct{}]) {
			// At the head of the queue: the lock is ours until WaitRecv
			// receives the request. Hold it across asynchronous work (a
			// 5 ms wakeup), then release it, which lets the next one in.
			order = append(order, name+" holds")
			work := tevent.WakeupSend(t.ev, t.ev.Now().Add(5*time.Millisecond))
			work.SetCallback(func(work *tevent.Req[struct{}]) {
				tevent.WakeupRecv(work)
				order = append(order, name+" releases")
				tqueue.WaitRecv(lock)
				done++
			})
		})
	}
	if err := t.ev.LoopUntil(func() bool { return done == 3 }); err != nil {
		return "", err
	}
	return strings.Join(order, ", "), nil
}
