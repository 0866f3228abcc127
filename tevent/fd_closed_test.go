package tevent_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// AddFD of a number that is not open fails with EBADF on every backend,
// not only on epoll, whose epoll_ctl says so itself.
func TestAddFDClosedFd(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := testutil.Socketpair(t)
		sys.Close(b)
		if _, err := ev.AddFD(b, tevent.FDRead, func(*tevent.FD, tevent.Flags) {}); !errors.Is(err, unix.EBADF) {
			t.Fatalf("AddFD of a closed fd = %v, want EBADF", err)
		}
		fde, err := ev.AddFD(a, tevent.FDRead, func(*tevent.FD, tevent.Flags) {})
		if err != nil {
			t.Fatalf("AddFD of an open fd: %v", err)
		}
		fde.Remove()
	})
}

// An fd closed behind its event's back calls the handler at most once
// (poll reports POLLNVAL, epoll drops the fd), not on every iteration.
func TestFDClosedBehindItsBack(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, _ := testutil.Socketpair(t)
		calls := 0
		fde, err := ev.AddFD(a, tevent.FDRead, func(*tevent.FD, tevent.Flags) { calls++ })
		if err != nil {
			t.Fatal(err)
		}
		defer fde.Remove()
		sys.Close(a)
		// Each wake-up bounds a wait, so the loop turns even when nothing
		// is reported.
		for range 5 {
			w := tevent.WakeupSend(ev, ev.Now().Add(time.Millisecond))
			for w.IsInProgress() {
				if err := ev.LoopOnce(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if calls > 1 {
			t.Fatalf("the handler of a closed fd ran %d times", calls)
		}
	})
}
