package tevent_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestBackendNames(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		if !strings.Contains(strings.Join(tevent.Backends(), ","), ev.Backend()) {
			t.Fatalf("Backend() = %q, not in %v", ev.Backend(), tevent.Backends())
		}
	})
	if _, err := tevent.NewContext(tevent.WithBackend("kqueue-on-linux")); err == nil {
		t.Fatal("NewContext with an unknown backend: no error")
	}
}

func TestLoopOnceEmpty(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce on an empty context = %v, want ErrNoEvents", err)
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatalf("LoopWait on an empty context = %v, want nil", err)
		}
	})
}

func TestImmediatesFIFOBeforeTimers(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		var got []string
		ev.AddTimer(epoch, func(*tevent.Timer, time.Time) { got = append(got, "timer") })
		for _, s := range []string{"i1", "i2", "i3"} {
			ev.ScheduleImmediate(func() {
				got = append(got, s)
				if s == "i1" {
					// Queued while immediates run: waits for the next iteration.
					ev.ScheduleImmediate(func() { got = append(got, "late") })
				}
			})
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		want := []string{"i1", "i2", "i3", "timer"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("first iteration mismatch (-want +got):\n%s", diff)
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		want = append(want, "late")
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestTimerOrderAndTies(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		clock := tevent.NewFakeClock(epoch)
		ev := newCtx(tevent.WithClock(clock))
		var got []string
		add := func(name string, d time.Duration) *tevent.Timer {
			return ev.AddTimer(epoch.Add(d), func(_ *tevent.Timer, now time.Time) {
				got = append(got, name)
				if want := epoch.Add(d); now.Before(want) {
					t.Errorf("%s ran at %v, before its deadline %v", name, now, want)
				}
			})
		}
		add("c", 3*time.Second)
		add("a1", time.Second)
		add("b", 2*time.Second)
		add("a2", time.Second)
		cancelled := add("x", 1500*time.Millisecond)
		add("a3", time.Second)
		if !cancelled.Cancel() {
			t.Fatal("Cancel of an armed timer = false")
		}
		if cancelled.Cancel() {
			t.Fatal("second Cancel = true")
		}
		start := time.Now()
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"a1", "a2", "a3", "b", "c"}, got); diff != "" {
			t.Fatalf("timer order mismatch (-want +got):\n%s", diff)
		}
		if got := clock.Now(); !got.Equal(epoch.Add(3 * time.Second)) {
			t.Fatalf("fake clock at %v, want %v", got, epoch.Add(3*time.Second))
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Fatalf("fake-clock loop slept: took %v", elapsed)
		}
	})
}

func TestTimerPastDeadlineRunsNextIteration(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		runs := 0
		ev.AddTimer(epoch.Add(-time.Hour), func(te *tevent.Timer, now time.Time) {
			runs++
			if runs < 3 {
				te.Reset(now.Add(-time.Minute)) // still in the past
			}
		})
		for i := 1; i <= 3; i++ {
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
			if runs != i {
				t.Fatalf("after iteration %d the timer ran %d times; a re-armed past timer must wait for the next iteration", i, runs)
			}
		}
		if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrNoEvents) {
			t.Fatalf("LoopOnce after the last run = %v, want ErrNoEvents", err)
		}
	})
}

func TestTimerResetAndCancelInsideHandlers(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		var later *tevent.Timer
		fired := 0
		ev.AddTimer(epoch.Add(time.Second), func(*tevent.Timer, time.Time) {
			if !later.Pending() {
				t.Error("later timer not pending before Cancel")
			}
			later.Cancel()
		})
		later = ev.AddTimer(epoch.Add(time.Second), func(*tevent.Timer, time.Time) { fired++ })
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if fired != 0 {
			t.Fatalf("cancelled timer ran %d times", fired)
		}
		if later.Reset(epoch.Add(5 * time.Second)) {
			t.Fatal("Reset of a cancelled timer reported it armed")
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if fired != 1 {
			t.Fatalf("re-armed timer ran %d times, want 1", fired)
		}
		if got := later.When(); !got.Equal(epoch.Add(5 * time.Second)) {
			t.Fatalf("When() = %v", got)
		}
	})
}

func TestFDExactFlags(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := testutil.Socketpair(t)
		var got []tevent.Flags
		fde, err := ev.AddFD(a, tevent.FDWrite, func(fde *tevent.FD, flags tevent.Flags) {
			got = append(got, flags)
			fde.SetFlags(0)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		// Readable and writable now, but only READ asked for.
		if _, err := unix.Write(b, []byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := fde.SetFlags(tevent.FDRead); err != nil {
			t.Fatal(err)
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		// Both asked for, both ready.
		if err := fde.SetFlags(tevent.FDRead | tevent.FDWrite); err != nil {
			t.Fatal(err)
		}
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		want := []tevent.Flags{tevent.FDWrite, tevent.FDRead, tevent.FDRead | tevent.FDWrite}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("delivered flags mismatch (-want +got):\n%s", diff)
		}
		if fde.Fd() != a || fde.Flags() != 0 {
			t.Fatalf("Fd()=%d Flags()=%v", fde.Fd(), fde.Flags())
		}
		fde.Remove()
	})
}

func TestFDHangupDelivery(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		for _, tc := range []struct {
			ask, want tevent.Flags
		}{
			{tevent.FDRead, tevent.FDRead},
			{tevent.FDError, tevent.FDError},
			{tevent.FDRead | tevent.FDError, tevent.FDRead | tevent.FDError},
		} {
			ev := newCtx()
			a, b := testutil.Socketpair(t)
			unix.Close(b)
			var got tevent.Flags
			fde, err := ev.AddFD(a, tc.ask, func(fde *tevent.FD, flags tevent.Flags) {
				got = flags
				fde.Remove()
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("asked %v on a hung-up fd: delivered %v, want %v", tc.ask, got, tc.want)
			}
			fde.Remove()
		}
	})
}

func TestFDFlagsZeroSilentAfterHangup(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx(tevent.WithClock(tevent.NewFakeClock(epoch)))
		a, b := testutil.Socketpair(t)
		unix.Close(b)
		calls := 0
		fde, err := ev.AddFD(a, 0, func(*tevent.FD, tevent.Flags) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		// Spin the loop through a series of timers: the fd with flags 0 must
		// never be reported, however long the hang-up is pending.
		iterations := 0
		tick := func(te *tevent.Timer, now time.Time) {
			iterations++
			if iterations < 50 {
				te.Reset(now.Add(time.Millisecond))
			} else {
				fde.Remove()
			}
		}
		ev.AddTimer(epoch, tick)
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if calls != 0 {
			t.Fatalf("handler of a flags-0 event ran %d times after a hang-up", calls)
		}
	})
}

func TestFDBusyAndBadInput(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, _ := testutil.Socketpair(t)
		h := func(*tevent.FD, tevent.Flags) {}
		fde, err := ev.AddFD(a, tevent.FDRead, h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ev.AddFD(a, tevent.FDRead, h); !errors.Is(err, tevent.ErrFDBusy) || !errors.Is(err, unix.EBUSY) {
			t.Fatalf("second AddFD = %v, want ErrFDBusy", err)
		}
		if _, err := ev.AddFD(-1, tevent.FDRead, h); !errors.Is(err, unix.EBADF) {
			t.Fatalf("AddFD(-1) = %v, want EBADF", err)
		}
		if _, err := ev.AddFD(a+100, tevent.Flags(0x80), h); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("AddFD with unknown flags = %v, want EINVAL", err)
		}
		if _, err := ev.AddFD(a+100, tevent.FDRead, nil); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("AddFD with nil handler = %v, want EINVAL", err)
		}
		fde.Remove()
		fde.Remove() // twice is fine
		if err := fde.SetFlags(tevent.FDWrite); err != nil {
			t.Fatalf("SetFlags on a removed event = %v", err)
		}
		again, err := ev.AddFD(a, tevent.FDRead, h)
		if err != nil {
			t.Fatalf("AddFD after Remove: %v", err)
		}
		again.Remove()
	})
}

func TestFDAutoClose(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[1])
		fde, err := ev.AddFD(fds[0], tevent.FDRead, func(*tevent.FD, tevent.Flags) {})
		if err != nil {
			t.Fatal(err)
		}
		fde.SetAutoClose(true)
		fde.Remove()
		if _, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFD, 0); !errors.Is(err, unix.EBADF) {
			t.Fatalf("auto-close fd still open after Remove (fcntl: %v)", err)
		}
	})
}
