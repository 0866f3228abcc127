package tevent_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

func benchBackends(b *testing.B, fn func(b *testing.B, ev *tevent.Context)) {
	for _, name := range tevent.Backends() {
		b.Run(name, func(b *testing.B) {
			ev, err := tevent.NewContext(tevent.WithBackend(name))
			if err != nil {
				b.Fatal(err)
			}
			defer ev.Close()
			fn(b, ev)
		})
	}
}

// One immediate scheduled and dispatched per op.
func BenchmarkImmediate(b *testing.B) {
	benchBackends(b, func(b *testing.B, ev *tevent.Context) {
		n := 0
		fn := func() { n++ }
		b.ReportAllocs()
		for b.Loop() {
			ev.ScheduleImmediate(fn)
			if err := ev.LoopOnce(); err != nil {
				b.Fatal(err)
			}
		}
		if n == 0 {
			b.Fatal("no immediate ran")
		}
	})
}

// One timer re-armed and fired per op: no allocation.
func BenchmarkTimerArmFire(b *testing.B) {
	benchBackends(b, func(b *testing.B, ev *tevent.Context) {
		fired := 0
		te := ev.AddTimer(time.Now().Add(time.Hour), func(*tevent.Timer, time.Time) { fired++ })
		te.Cancel()
		b.ReportAllocs()
		for b.Loop() {
			te.Reset(time.Time{}) // long past: due at once
			if err := ev.LoopOnce(); err != nil {
				b.Fatal(err)
			}
		}
		if fired == 0 {
			b.Fatal("timer never fired")
		}
	})
}

// Many timers armed, then all fired: the shape of a server with one timer
// per connection. Side by side with time.AfterFunc below.
func BenchmarkTimerBatch(b *testing.B) {
	const batch = 1024
	benchBackends(b, func(b *testing.B, ev *tevent.Context) {
		timers := make([]*tevent.Timer, batch)
		fired := 0
		h := func(*tevent.Timer, time.Time) { fired++ }
		for i := range timers {
			timers[i] = ev.AddTimer(time.Now().Add(time.Hour), h)
			timers[i].Cancel()
		}
		base := time.Now()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			te := timers[i%batch]
			te.Reset(base.Add(-time.Duration(i%97) * time.Microsecond))
			if i%batch == batch-1 {
				if err := ev.LoopWait(); err != nil {
					b.Fatal(err)
				}
			}
		}
		ev.LoopWait()
	})
}

// time.AfterFunc armed and fired, per op; the peer for the two above.
func BenchmarkTimeAfterFunc(b *testing.B) {
	b.Run("single", func(b *testing.B) {
		ch := make(chan struct{}, 1)
		fn := func() { ch <- struct{}{} }
		b.ReportAllocs()
		for b.Loop() {
			time.AfterFunc(0, fn)
			<-ch
		}
	})
	b.Run("batch", func(b *testing.B) {
		const batch = 1024
		var wg sync.WaitGroup
		fn := wg.Done
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			wg.Add(1)
			time.AfterFunc(-time.Duration(i%97)*time.Microsecond, fn)
			if i%batch == batch-1 {
				wg.Wait()
			}
		}
		wg.Wait()
	})
}

// Req create → Done → callback → Recv: one allocation, the request.
func BenchmarkReqRoundTrip(b *testing.B) {
	benchBackends(b, func(b *testing.B, ev *tevent.Context) {
		sum := 0
		cb := func(r *tevent.Req[int]) {
			v, _ := r.Recv()
			sum += v
		}
		b.ReportAllocs()
		for b.Loop() {
			req := tevent.NewReq[int](ev)
			req.SetCallback(cb)
			req.Done(1)
		}
		if sum == 0 {
			b.Fatal("no callback ran")
		}
	})
}

// Functions posted from another goroutine, run on the loop.
func BenchmarkPost(b *testing.B) {
	benchBackends(b, func(b *testing.B, ev *tevent.Context) {
		a, _ := testutil.Socketpair(b)
		keep, err := ev.AddFD(a, tevent.FDRead, func(*tevent.FD, tevent.Flags) {})
		if err != nil {
			b.Fatal(err)
		}
		defer keep.Remove()
		ran := 0
		fn := func() { ran++ }
		b.ReportAllocs()
		b.ResetTimer()
		n := b.N
		go func() {
			for range n {
				if err := ev.Post(fn); err != nil {
					return
				}
			}
		}()
		if err := ev.LoopUntil(func() bool { return ran == n }); err != nil {
			b.Fatal(err)
		}
	})
}

// One byte bounced between the two ends of a socketpair: each op is one
// readiness report dispatched to a handler that reads and writes.
func BenchmarkFDRoundTrip(b *testing.B) {
	benchBackends(b, func(b *testing.B, ev *tevent.Context) {
		x, y := testutil.Socketpair(b)
		calls := 0
		var buf [1]byte
		bounce := func(fde *tevent.FD, _ tevent.Flags) {
			calls++
			unix.Read(fde.Fd(), buf[:])
			peer := y
			if fde.Fd() == y {
				peer = x
			}
			unix.Write(peer, buf[:])
		}
		fx, err := ev.AddFD(x, tevent.FDRead, bounce)
		if err != nil {
			b.Fatal(err)
		}
		defer fx.Remove()
		fy, err := ev.AddFD(y, tevent.FDRead, bounce)
		if err != nil {
			b.Fatal(err)
		}
		defer fy.Remove()
		unix.Write(x, []byte{1})
		b.ReportAllocs()
		for b.Loop() {
			if err := ev.LoopOnce(); err != nil {
				b.Fatal(err)
			}
		}
		if calls == 0 {
			b.Fatal("no fd event dispatched")
		}
	})
}

// One CallSend round trip per op between two loops, each on its own
// goroutine: fn runs on target's loop and its result comes back to ev,
// whose loop Poll drives. Three allocations: the request, the call's state
// and the function posted both ways. BenchmarkChanRoundTrip is the peer;
// each op here is two wake-ups of a loop blocked in epoll_wait or poll(2)
// through its eventfd or pipe, where the channel peer only parks and
// readies goroutines inside the runtime.
func BenchmarkCallRoundTrip(b *testing.B) {
	benchBackends(b, func(b *testing.B, ev *tevent.Context) {
		target, err := tevent.NewContext(tevent.WithBackend(ev.Backend()))
		if err != nil {
			b.Fatal(err)
		}
		// Something registered keeps target's loop waiting for posts.
		a, _ := testutil.Socketpair(b)
		if _, err := target.AddFD(a, tevent.FDRead, func(*tevent.FD, tevent.Flags) {}); err != nil {
			b.Fatal(err)
		}
		loopDone := make(chan error, 1)
		go func() { loopDone <- target.LoopWait() }()
		defer func() {
			target.Close()
			if err := <-loopDone; err != nil && !errors.Is(err, tevent.ErrClosed) {
				b.Error(err)
			}
		}()
		n := 0
		fn := func() (int, error) { n++; return n, nil }
		b.ReportAllocs()
		for b.Loop() {
			req := tevent.CallSend(ev, target, fn)
			if err := req.Poll(); err != nil {
				b.Fatal(err)
			}
			if _, err := tevent.CallRecv(req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// One value sent to a peer goroutine and one sent back per op, over two
// unbuffered channels: the plain-Go peer of BenchmarkCallRoundTrip.
func BenchmarkChanRoundTrip(b *testing.B) {
	req, resp := make(chan int), make(chan int)
	go func() {
		for v := range req {
			resp <- v + 1
		}
		close(resp)
	}()
	sum := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req <- i
		sum += <-resp
	}
	close(req)
	<-resp
	if sum == 0 {
		b.Fatal("no round trip")
	}
}
