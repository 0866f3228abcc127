// Package tqueue serializes asynchronous requests, as Samba's tevent_queue
// does: requests join a [Queue] in order, and only the one at the head is
// started. It is how a socket keeps one write outstanding while callers
// queue more, and, through [WaitSend], a lock held across asynchronous work.
//
// # Entries
//
// [Queue.Add] appends a request with a trigger, the function that starts its
// work. When the entry reaches the head of a running queue, the trigger runs
// once, from an immediate on a later turn of the loop, never from inside
// Add. The entry leaves the queue when its request is received (by its Recv)
// or abandoned ([tevent.Req.Abandon]), the Go counterpart of Samba freeing
// the request; only then is the next head triggered, again on a later turn
// of the loop, so triggers never recurse. A request that times out or is
// cancelled while it waits finishes with that error, is never triggered, and
// leaves once it is received like any other.
//
// A Send function built on a queue adds its request and lets the trigger
// start the work:
//
//	func WriteSend(ev *tevent.Context, q *tqueue.Queue, w *Writer, buf []byte) *tevent.Req[int] {
//		req := tevent.NewReq[int](ev)
//		q.Add(req, func() {
//			// At the head: the previous write was received.
//			w.start(buf, req) // finishes req with req.Done or req.Error
//		})
//		return req
//	}
//
// [Queue.AddOptimizeEmpty] runs the trigger at once when the queue is empty,
// saving a turn of the loop. A nil trigger makes a blocker, an entry that
// holds the queue until its request is released. [Queue.Stop] and
// [Queue.Start] pause and resume triggering, and [Entry.Untrigger] lets the
// head of a stopped queue be triggered again when it is started.
// [Queue.Len] counts the entries, head included.
//
// # Limits
//
// A queue made with [WithLimit] holds at most that many entries. Past it,
// [Queue.Add], [Queue.AddOptimizeEmpty] and [WaitSend] queue nothing,
// return a nil [*Entry] and fail the request with [ErrFull], from a later
// turn of the loop as a Send function's early result is, so a callback
// set after the call still runs. Room is made as entries leave. A
// producer that would rather wait than drop its work waits for it with
// [BelowSend], which finishes once the queue holds n entries or fewer:
//
//	q := tqueue.New(ev, "outbox", tqueue.WithLimit(64))
//	...
//	req := tqueue.BelowSend(ev, q, 63) // room for one more
//	req.SetCallback(func(req *tevent.Req[struct{}]) {
//		if err := tqueue.BelowRecv(req); err != nil {
//			return // timed out, cancelled
//		}
//		// add the next entry
//	})
//
// Several requests may wait at once; they finish as the length falls to
// each one's threshold, highest first, each only while the queue is still
// that short, so a producer that refills the queue keeps the next one
// waiting rather than waking it into ErrFull. BelowSend works on a queue
// without a limit too, which never refuses an entry.
//
// # Goroutines
//
// A queue belongs to the goroutine that runs its context's loop, as the
// context's requests do. After the context is closed no trigger runs and
// no [BelowSend] request finishes; adding, receiving and abandoning stay
// safe.
package tqueue
