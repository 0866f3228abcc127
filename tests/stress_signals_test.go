package tests

import (
	"bytes"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// pingPong bounces a 64 KiB block between two streams until stopped,
// checking every byte that comes back.
type pingPong struct {
	t          testing.TB
	ev         *tevent.Context
	a, b       *tsocket.Stream
	out, mid   []byte
	back       []byte
	rounds     int
	stop, idle bool
}

func (p *pingPong) round() {
	if p.stop {
		p.idle = true
		return
	}
	p.out[0] = byte(p.rounds)
	w := tsocket.WritevSend(p.ev, p.a, [][]byte{p.out})
	r := tsocket.ReadvSend(p.ev, p.b, [][]byte{p.mid})
	pending := 2
	done := func() {
		if pending--; pending > 0 {
			return
		}
		// b echoes what it got; a reads it back.
		w2 := tsocket.WritevSend(p.ev, p.b, [][]byte{p.mid})
		r2 := tsocket.ReadvSend(p.ev, p.a, [][]byte{p.back})
		pending2 := 2
		done2 := func() {
			if pending2--; pending2 > 0 {
				return
			}
			if !bytes.Equal(p.back, p.out) {
				p.t.Errorf("round %d came back different", p.rounds)
				p.idle = true
				return
			}
			p.rounds++
			p.round()
		}
		w2.SetCallback(func(req *tevent.Req[int]) { p.check(tsocket.WritevRecv(req)); done2() })
		r2.SetCallback(func(req *tevent.Req[int]) { p.check(tsocket.ReadvRecv(req)); done2() })
	}
	w.SetCallback(func(req *tevent.Req[int]) { p.check(tsocket.WritevRecv(req)); done() })
	r.SetCallback(func(req *tevent.Req[int]) { p.check(tsocket.ReadvRecv(req)); done() })
}

func (p *pingPong) check(_ int, err error) {
	if err != nil {
		p.t.Errorf("ping-pong I/O: %v", err)
	}
}

// Signals sent in bursts while the loop is busy with fd traffic (four pairs
// of streams bouncing 64 KiB blocks) are all delivered to their handlers.
//
// "All" needs care: the kernel keeps one pending instance of each standard
// signal, and the Go runtime one pending bit per signal number, so two
// SIGUSR1s sent before the first is handed over become one. The test
// therefore makes two kinds of bursts. In the exact kind it sends SIGUSR1
// and SIGUSR2 back to back (distinct signals never merge) and sends the
// next pair only once the loop's handlers have counted both: no signal can
// merge with another, so the counts must equal what was sent, exactly. In
// the coalescing kind it sends eight SIGUSR1s back to back and waits until
// the handler has counted at least one: the kernel may merge any of them,
// so each such burst adds between one and eight. The final SIGUSR1 count
// is checked against both bounds, which hold whenever the stragglers of a
// coalesced burst are counted.
func TestStressSignalBurstsDuringTraffic(t *testing.T) {
	const exact, coalesced, burst = 300, 30, 8
	forEachBackend(t, func(t *testing.T, backend string) {
		ev := ctxOn(t, backend)
		var usr1, usr2 atomic.Int64
		seen := make(chan struct{}, 1)
		notify := func() {
			select {
			case seen <- struct{}{}:
			default:
			}
		}
		s1, err := ev.AddSignal(syscall.SIGUSR1, func(_ os.Signal, n int) { usr1.Add(int64(n)); notify() })
		if err != nil {
			t.Fatal(err)
		}
		s2, err := ev.AddSignal(syscall.SIGUSR2, func(_ os.Signal, n int) { usr2.Add(int64(n)); notify() })
		if err != nil {
			t.Fatal(err)
		}
		var pps []*pingPong
		for i := range 4 {
			a, b := streamsOf(t, ev, "unix")
			p := &pingPong{t: t, ev: ev, a: a, b: b, out: prng(64<<10, uint64(i)), mid: make([]byte, 64<<10), back: make([]byte, 64<<10)}
			pps = append(pps, p)
			p.round()
		}

		// The sender runs on its own goroutine while the loop runs here.
		var senderDone atomic.Bool
		senderErr := make(chan string, 1)
		wait := func(cond func() bool) bool {
			timeout := time.NewTimer(ioTimeout)
			defer timeout.Stop()
			for !cond() {
				select {
				case <-seen:
				case <-timeout.C:
					return false
				}
			}
			return true
		}
		kill := func(sig unix.Signal) {
			if err := unix.Kill(os.Getpid(), sig); err != nil {
				panic(err) // cannot fail for our own pid
			}
		}
		var trafficAtStart int
		ev.ScheduleImmediate(func() { trafficAtStart = pps[0].rounds })
		go func() {
			defer func() {
				senderDone.Store(true)
				ev.Post(func() {}) // wake the loop to look at senderDone
			}()
			base1 := int64(0)
			for i := range exact {
				kill(unix.SIGUSR1)
				kill(unix.SIGUSR2)
				want := int64(i + 1)
				if !wait(func() bool { return usr1.Load()-base1 >= want && usr2.Load() >= want }) {
					senderErr <- "an exact burst was never counted"
					return
				}
				if i == exact/2 {
					// Halfway, the coalescing bursts.
					for range coalesced {
						before := usr1.Load()
						for range burst {
							kill(unix.SIGUSR1)
						}
						if !wait(func() bool { return usr1.Load() > before }) {
							senderErr <- "a coalesced burst was never counted"
							return
						}
					}
					base1 = usr1.Load() - want
				}
			}
		}()
		runUntil(t, ev, "the signal bursts", senderDone.Load)
		select {
		case e := <-senderErr:
			t.Fatal(e)
		default:
		}
		duringSignals := pps[0].rounds - trafficAtStart
		for _, p := range pps {
			p.stop = true
		}
		runUntil(t, ev, "the traffic to stop", func() bool {
			for _, p := range pps {
				if !p.idle {
					return false
				}
			}
			return true
		})
		s1.Remove()
		s2.Remove()
		if got := usr2.Load(); got != exact {
			t.Errorf("SIGUSR2 counted %d times, sent %d", got, exact)
		}
		lo, hi := int64(exact+coalesced), int64(exact+coalesced*burst)
		if got := usr1.Load(); got < lo || got > hi {
			t.Errorf("SIGUSR1 counted %d times, want between %d and %d", got, lo, hi)
		}
		if duringSignals == 0 {
			t.Errorf("no fd traffic while the signals were sent")
		}
		t.Logf("SIGUSR1 %d (sent %d), SIGUSR2 %d; %d ping-pong rounds on the first pair meanwhile",
			usr1.Load(), exact+coalesced*burst, usr2.Load(), duringSignals)
	})
}
