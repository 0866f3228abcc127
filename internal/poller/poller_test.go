package poller_test

import (
	"errors"
	"runtime"
	"strconv"
	"testing"

	"github.com/gotevent/gotevent/internal/poller"
	"github.com/gotevent/gotevent/internal/sys"
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
		// Nothing to read: a bounded wait blocks, then times out.
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
// at once, and a bounded one that blocks and times out.
func TestWaitDoesNotAllocate(t *testing.T) {
	each(t, func(t *testing.T, p poller.Poller) {
		a, b := testutil.Socketpair(t)
		if err := p.Add(a, 1, poller.In); err != nil {
			t.Fatal(err)
		}
		events := make([]poller.Event, 4)
		p.Wait(events, 1) // warm up
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

// Add refuses a number that is not an open descriptor, with EBADF, on
// every backend: epoll_ctl does so itself, poll(2) would take it and
// report POLLNVAL for it on every wait.
func TestAddRefusesClosedFd(t *testing.T) {
	each(t, func(t *testing.T, p poller.Poller) {
		a, b := testutil.Socketpair(t)
		sys.Close(b)
		for _, fd := range []int{b, -1} {
			if err := p.Add(fd, 1, poller.In); !errors.Is(err, unix.EBADF) {
				t.Errorf("Add(%d) = %v, want EBADF", fd, err)
			}
		}
		if err := p.Add(a, 1, poller.In); err != nil {
			t.Fatalf("Add of an open fd: %v", err)
		}
		if err := p.Del(a); err != nil {
			t.Fatal(err)
		}
	})
}

// A number past int32 (the width of the fd in struct pollfd and struct
// epoll_event) is refused with EBADF, not truncated into the number of an
// open descriptor that shares its low 32 bits.
func TestWideFdRefused(t *testing.T) {
	if strconv.IntSize == 32 {
		t.Skip("int is 32 bits wide: no such number")
	}
	each(t, func(t *testing.T, p poller.Poller) {
		a, b := testutil.Socketpair(t)
		wide := int(uint64(a) + 1<<32)
		if err := p.Add(wide, 1, poller.In); !errors.Is(err, unix.EBADF) {
			t.Fatalf("Add(%d) = %v, want EBADF", wide, err)
		}
		if err := p.Add(a, 2, poller.In); err != nil {
			t.Fatalf("Add(%d) after the refused wide number: %v", a, err)
		}
		if err := p.Mod(wide, 3, poller.Out); err == nil {
			t.Errorf("Mod(%d) succeeded: it changed fd %d", wide, a)
		}
		if err := p.Del(wide); err == nil {
			t.Errorf("Del(%d) succeeded: it removed fd %d", wide, a)
		}
		if _, err := unix.Write(b, []byte("x")); err != nil {
			t.Fatal(err)
		}
		events := make([]poller.Event, 4)
		if n, err := p.Wait(events, -1); n != 1 || err != nil || events[0].Tag != 2 || events[0].Ready&poller.In == 0 {
			t.Fatalf("Wait = %d, %v (%+v); want fd %d readable with its own tag 2", n, err, events[0], a)
		}
	})
}

// An fd closed behind the poll backend's back (poll reports POLLNVAL) is
// reported once with Err, then left out of the waits until Mod re-arms it
// or Del drops it: reporting it on every wait would spin a loop whose
// handler does not remove it.
func TestPollReportsClosedFdOnce(t *testing.T) {
	testutil.NoFDLeak(t)
	p, err := poller.New("poll")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, _ := testutil.Socketpair(t)
	c, d := testutil.Socketpair(t)
	if err := p.Add(a, 1, poller.In); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(c, 2, poller.In); err != nil {
		t.Fatal(err)
	}
	sys.Close(a)
	events := make([]poller.Event, 4)
	n, err := p.Wait(events, -1)
	if n != 1 || err != nil || events[0].Fd != int32(a) || events[0].Tag != 1 || events[0].Ready != poller.Err {
		t.Fatalf("Wait = %d, %v (%+v); want fd %d with Err alone", n, err, events[0], a)
	}
	for range 3 {
		if n, err := p.Wait(events, 0); n != 0 || err != nil {
			t.Fatalf("Wait after the report = %d, %v (%+v); want nothing", n, err, events[0])
		}
	}
	// The other registrations are served as before.
	if _, err := unix.Write(d, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Wait(events, -1); n != 1 || err != nil || events[0].Tag != 2 {
		t.Fatalf("Wait = %d, %v (%+v); want fd %d readable", n, err, events[0], c)
	}
	// Mod re-arms the parked fd: still closed, so reported once more.
	if err := p.Mod(a, 3, poller.In); err != nil {
		t.Fatal(err)
	}
	if err := p.Del(c); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Wait(events, -1); n != 1 || err != nil || events[0].Tag != 3 || events[0].Ready != poller.Err {
		t.Fatalf("Wait after Mod = %d, %v (%+v); want fd %d with Err and tag 3", n, err, events[0], a)
	}
	if err := p.Del(a); err != nil {
		t.Fatalf("Del of a parked fd: %v", err)
	}
	if n, err := p.Wait(events, 0); n != 0 || err != nil {
		t.Fatalf("Wait after Del = %d, %v; want nothing", n, err)
	}
}

// Registering a high fd number costs a slot, not memory in proportion to
// the number.
func TestHighFdNumberCostsNoMemory(t *testing.T) {
	each(t, func(t *testing.T, p poller.Poller) {
		a, _ := testutil.Socketpair(t)
		high := highFd(t, a)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := p.Add(high, 1, poller.In)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 4096 {
			t.Errorf("Add(%d) allocated %d bytes", high, grew)
		}
		if err := p.Del(high); err != nil {
			t.Fatal(err)
		}
	})
}

// highFd returns a duplicate of fd at the highest number the descriptor
// limit allows (raised towards the hard limit for the test, up to 1<<20),
// closed at cleanup; it skips t if that is below 16384.
func highFd(t *testing.T, fd int) int {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if raised := lim; uint64(raised.Cur) < 1<<20 && raised.Max > raised.Cur {
		raised.Cur = min(raised.Max, 1<<20)
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &raised) == nil {
			t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &lim) })
		}
	}
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	high := int(min(uint64(lim.Cur), 1<<20)) - 1
	if high < 16384 {
		t.Skipf("RLIMIT_NOFILE %d is too low for a high fd number", lim.Cur)
	}
	if err := sys.Dup2(fd, high); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Close(high) })
	return high
}
