// Package tevent is an event loop in the style of Samba's tevent: one
// [Context] per loop goroutine drives fd, timer, immediate and signal
// events, and every asynchronous operation is a request ([Req]) created by
// a FooSend function and finished by its FooRecv function.
//
// # The loop
//
// A [Context] belongs to the goroutine that runs its loop ([Context.LoopOnce],
// [Context.LoopWait], [Context.LoopUntil], [Context.Run] or [Req.Poll]) for
// as long as that call runs; between loop calls it may move to another
// goroutine. Only [Context.Post], [Context.Close], [Context.Done] and
// ScheduleEventAndDispatch may be called from other goroutines. One
// iteration runs, in order: pending signals, the
// immediates queued before it started, the timers that are due, and then
// every fd that one wait reported ready, each once. The wait blocks if
// nothing ran before it, or, under Run, if no immediate is queued and no
// signal pending. Handlers never run
// concurrently and may add or remove any event, their own included; an
// event removed while others of the same wait are still being dispatched is
// never called.
//
// The backend is epoll on Linux, or poll(2) when asked for with
// [WithBackend]("poll"); poll(2) on other systems. fd events are
// level-triggered, as in tevent.
//
// # Closing
//
// [Context.Close] from the owner between loop calls tears the context down
// at once. Inside a handler, or from another goroutine while a loop call
// runs, it marks the context closed and wakes the loop, which stops
// dispatching and tears down before its call returns; [Context.Done] is
// closed when that has finished. No code looks at goroutine ids: the loop
// calls, and the calls made between them, hold a reference that keeps the
// teardown away (see Close). Requests still in flight end with
// [ErrClosed] without calling back, and their cleanup functions release
// what they own.
//
// # Requests
//
// A FooSend function creates a request, starts work on the loop and returns
// it; the work later calls [Req.Done] or [Req.Error]; the caller's callback
// then collects the result with FooRecv, built on [Req.Recv]:
//
//	func SleepSend(ev *tevent.Context, d time.Duration) *tevent.Req[time.Time] {
//		req := tevent.NewReq[time.Time](ev)
//		subreq := tevent.WakeupSend(ev, ev.Now().Add(d))
//		req.AddSubreq(subreq)
//		subreq.SetCallback(func(subreq *tevent.Req[struct{}]) {
//			if req.Error(tevent.WakeupRecv(subreq)) {
//				return
//			}
//			req.Done(ev.Now())
//		})
//		return req
//	}
//
// A request never calls back from inside its Send function: one that
// finishes early returns [Req.Post]. Requests take deadlines
// ([Req.SetEndTime]), can be cancelled ([Req.Cancel]) or abandoned
// ([Req.Abandon]), and run cleanup functions ([Req.SetCleanupFn]).
// [Req.Poll] is the synchronous wrapper.
//
// # The callback-mask style
//
// Daemons written in the Momentum (ecelerity) style drive each connection
// from one function that does what it can and returns the mask it wants
// next. [Context.BuildFDEvent] and [Context.ScheduleEvent] offer that style
// on the same loop as requests: see [MaskEvent] for the life of an event,
// [MaskEvent.IOWrite], [MaskEvent.IORead] and [MaskEvent.ReadUntil] for
// partial I/O, and [MaskEvent.Suspend] with [Context.QueueAsyncJob] for
// handing slow work to the context's bounded worker pool and resuming the
// connection when it is done.
//
// # Testing
//
// [WithClock]([NewFakeClock](start)) makes the loop jump straight to the next
// timer deadline instead of sleeping, so timer logic is tested in
// microseconds and deterministically.
package tevent
