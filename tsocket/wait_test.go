package tsocket_test

import (
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

func TestWaitEvents(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		start := time.Unix(1e9, 0)
		clock := tevent.NewFakeClock(start)
		ev := newCtx(tevent.WithClock(clock))
		a, b, err := tsocket.Socketpair(ev)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()

		// One that reschedules itself three times, then removes itself by
		// returning nil.
		var ticks []time.Duration
		a.AddWaitEvent(start.Add(time.Second), func(s *tsocket.Stream, we *tsocket.WaitEvent, rock any) *tsocket.WaitEvent {
			ticks = append(ticks, ev.Now().Sub(start))
			if rock.(string) != "rock" || s != a {
				t.Errorf("callback got %v, %v", s, rock)
			}
			if len(ticks) == 3 {
				return nil
			}
			we.Mark = we.Mark.Add(time.Second)
			return we
		}, "rock")
		// One that removes itself inside its callback and returns it
		// anyway.
		selfRemoved := 0
		a.AddWaitEvent(start.Add(500*time.Millisecond), func(s *tsocket.Stream, we *tsocket.WaitEvent, _ any) *tsocket.WaitEvent {
			selfRemoved++
			s.RemoveWaitEvent(we)
			return we
		}, nil)
		// One removed before it runs.
		gone := a.AddWaitEvent(start.Add(time.Second), func(*tsocket.Stream, *tsocket.WaitEvent, any) *tsocket.WaitEvent {
			t.Error("removed wait event ran")
			return nil
		}, nil)
		a.RemoveWaitEvent(gone)

		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
		if len(ticks) != 3 || ticks[0] != want[0] || ticks[1] != want[1] || ticks[2] != want[2] {
			t.Errorf("ticks at %v, want %v", ticks, want)
		}
		if selfRemoved != 1 {
			t.Errorf("self-removing event ran %d times", selfRemoved)
		}

		// Wait events vanish with the stream: LoopWait returns at once.
		for i := range 3 {
			a.AddWaitEvent(ev.Now().Add(time.Hour*time.Duration(i+1)), func(*tsocket.Stream, *tsocket.WaitEvent, any) *tsocket.WaitEvent {
				t.Error("wait event of a closed stream ran")
				return nil
			}, nil)
		}
		closeT(t, a)
		before := clock.Now()
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if clock.Now() != before {
			t.Errorf("loop waited for a closed stream's wait events")
		}
	})
}
