package poller_test

import (
	"testing"

	"github.com/gotevent/gotevent/internal/poller"
	"github.com/gotevent/gotevent/internal/testutil"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(m))
}

// each runs fn on every backend with a fresh poller, closed at cleanup.
func each(t *testing.T, fn func(t *testing.T, p poller.Poller)) {
	for _, name := range poller.Backends() {
		t.Run(name, func(t *testing.T) {
			testutil.NoFDLeak(t)
			p, err := poller.New(name)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := p.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			fn(t, p)
		})
	}
}

func TestReadinessAndTags(t *testing.T) {
	each(t, func(t *testing.T, p poller.Poller) {
		a, b := testutil.Socketpair(t)
		if err := p.Add(a, 7, poller.In); err != nil {
			t.Fatal(err)
		}
		events := make([]poller.Event, 8)
		// Nothing to read: a bounded wait (parked on epoll) times out.
		if n, err := p.Wait(events, 1); n != 0 || err != nil {
			t.Fatalf("Wait on an idle fd = %d, %v; want 0, nil", n, err)
		}
		if _, err := unix.Write(b, []byte("x")); err != nil {
			t.Fatal(err)
		}
		// Readable now: an unbounded wait returns it.
		n, err := p.Wait(events, -1)
		if n != 1 || err != nil {
			t.Fatalf("Wait = %d, %v; want 1 event", n, err)
		}
		if e := events[0]; e.Fd != int32(a) || e.Tag != 7 || e.Ready&poller.In == 0 {
			t.Fatalf("event = %+v; want fd %d tag 7 readable", e, a)
		}
		// Mod changes interest and tag; level-triggered, so Out is reported at once.
		if err := p.Mod(a, 9, poller.Out); err != nil {
			t.Fatal(err)
		}
		if n, _ := p.Wait(events, -1); n != 1 || events[0].Tag != 9 || events[0].Ready&poller.Out == 0 {
			t.Fatalf("after Mod: %d events, %+v; want one writable with tag 9", n, events[0])
		}
		if err := p.Del(a); err != nil {
			t.Fatal(err)
		}
		if n, err := p.Wait(events, 0); n != 0 || err != nil {
			t.Fatalf("after Del: Wait = %d, %v; want 0, nil", n, err)
		}
	})
}

// A wait blocked with no limit wakes when another goroutine writes to a
// registered waker: the path tevent's Post takes.
func TestWakerWakesBlockedWait(t *testing.T) {
	each(t, func(t *testing.T, p poller.Poller) {
		w, err := poller.NewWaker()
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		if err := p.Add(w.Fd(), 1, poller.In); err != nil {
			t.Fatal(err)
		}
		events := make([]poller.Event, 4)
		for range 3 {
			done := make(chan error, 1)
			go func() { done <- w.Wake() }()
			n, err := p.Wait(events, -1)
			if err != nil || n != 1 || events[0].Tag != 1 {
				t.Fatalf("Wait = %d, %v (%+v); want the waker", n, err, events[0])
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err := w.Drain(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Waits do not allocate once the poller is warm: one that finds events
// at once, and a bounded one that parks and times out (the epoll
// backend's deadline path).
func TestWaitDoesNotAllocate(t *testing.T) {
	each(t, func(t *testing.T, p poller.Poller) {
		a, b := testutil.Socketpair(t)
		if err := p.Add(a, 1, poller.In); err != nil {
			t.Fatal(err)
		}
		events := make([]poller.Event, 4)
		p.Wait(events, 1) // warm up: registration, deadline timer
		if avg := testing.AllocsPerRun(20, func() { p.Wait(events, 1) }); avg != 0 {
			t.Errorf("a timed-out Wait allocates %.1f times", avg)
		}
		if _, err := unix.Write(b, []byte("x")); err != nil {
			t.Fatal(err)
		}
		for _, msec := range []int{-1, 1000, 0} {
			if avg := testing.AllocsPerRun(100, func() { p.Wait(events, msec) }); avg != 0 {
				t.Errorf("Wait(%d) on a ready fd allocates %.1f times", msec, avg)
			}
		}
	})
}

func TestUnknownBackend(t *testing.T) {
	if _, err := poller.New("kqueue-on-linux"); err == nil {
		t.Fatal("New accepted an unknown backend")
	}
}
