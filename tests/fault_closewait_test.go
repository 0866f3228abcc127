package tests

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// closeWaitPair returns our end as a Stream on ev and the peer's raw fd,
// after filling our send buffers with a writev the peer never reads and
// half-closing the peer (shutdown SHUT_WR): our socket is in CLOSE_WAIT
// with the writev pending.
func closeWaitPair(t *testing.T, ev *tevent.Context, fds *rawFDs, network string) (*tsocket.Stream, int, *tevent.Req[int]) {
	t.Helper()
	var a, b int
	if network == "tcp" {
		a, b = fds.tcp(t)
	} else {
		a, b = fds.socketpair(t)
	}
	s, err := tsocket.ExistingSocket(ev, a)
	if err != nil {
		t.Fatal(err)
	}
	fds.forget(a)
	t.Cleanup(func() { s.Close() })
	w := tsocket.WritevSend(ev, s, [][]byte{make([]byte, 32<<20)})
	if !w.IsInProgress() {
		t.Fatal("32 MiB fitted into the socket buffers")
	}
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if network == "tcp" {
		checkCloseWait(t, s.Fd()) // the FIN has arrived
	}
	return s, b, w
}

// runCapped runs ev's loop until done or until it has run cap iterations,
// and returns how many it ran. With a fake clock the loop never blocks while
// a timer is armed, so the cap is what stops a loop that spins.
func runCapped(t *testing.T, ev *tevent.Context, limit uint64, done func() bool) uint64 {
	t.Helper()
	start := ev.Iterations()
	if err := ev.LoopUntil(func() bool { return done() || ev.Iterations()-start >= limit }); err != nil {
		t.Fatalf("loop: %v", err)
	}
	return ev.Iterations() - start
}

// A socket in CLOSE_WAIT (the peer half-closed and does not read) with a
// writev pending on a full send buffer keeps the loop idle: the peer's FIN
// makes the socket readable forever, but nothing asks to read, so the
// level-triggered loop must not report it. The writev stays pending for the
// loop's whole wait and ends by its end time (ErrTimedOut) or by being
// abandoned from a timer; with a fake clock the wait costs no real time, and
// the loop's iteration count is what shows it did not spin. A readv started
// on the same stream meanwhile ends with io.EOF at once and leaves no
// busy loop behind either.
func TestFaultCloseWaitPendingWritevNoSpin(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		for _, network := range []string{"tcp", "unix"} {
			t.Run(network, func(t *testing.T) {
				testutil.NoFDLeak(t)
				fds := newRawFDs(t)
				clock := tevent.NewFakeClock(time.Unix(1e9, 0))
				ev := ctxOn(t, backend, tevent.WithClock(clock))

				t.Run("end-time", func(t *testing.T) {
					_, _, w := closeWaitPair(t, ev, fds, network)
					t0 := clock.Now()
					w.SetEndTime(t0.Add(time.Hour))
					n := runCapped(t, ev, 1000, func() bool { return !w.IsInProgress() })
					if _, err := tsocket.WritevRecv(w); !errors.Is(err, tevent.ErrTimedOut) {
						t.Fatalf("writev: %v, want ErrTimedOut", err)
					}
					if waited := clock.Now().Sub(t0); waited < time.Hour {
						t.Errorf("the writev ended after %v of fake time, before its end time", waited)
					}
					if n > 10 {
						t.Errorf("%d loop iterations while the writev waited: the loop spins", n)
					}
				})

				t.Run("abandon", func(t *testing.T) {
					s, _, w := closeWaitPair(t, ev, fds, network)
					// A readv alongside ends with EOF (the peer's FIN).
					r := tsocket.ReadvSend(ev, s, [][]byte{make([]byte, 1)})
					n := runCapped(t, ev, 1000, func() bool { return !r.IsInProgress() })
					if _, err := tsocket.ReadvRecv(r); err != io.EOF {
						t.Fatalf("readv in CLOSE_WAIT: %v, want io.EOF", err)
					}
					abandoned := false
					ev.AddTimer(clock.Now().Add(time.Hour), func(*tevent.Timer, time.Time) {
						w.Abandon()
						abandoned = true
					})
					n += runCapped(t, ev, 1000, func() bool { return abandoned })
					if n > 10 {
						t.Errorf("%d loop iterations while the writev waited: the loop spins", n)
					}
					// The abandoned writev released the stream's event:
					// nothing is left for the loop to wait on.
					if err := ev.LoopWait(); err != nil {
						t.Fatal(err)
					}
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
				})

				t.Run("mask", func(t *testing.T) {
					var a, b int
					if network == "tcp" {
						a, b = fds.tcp(t)
					} else {
						a, b = fds.socketpair(t)
					}
					buf := make([]byte, 32<<20)
					var st tevent.IOState
					calls := 0
					e := ev.BuildFDEvent(a, tevent.FDWrite, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
						calls++
						if e.IOWrite(buf, &st) == tevent.IOPending {
							return st.Need
						}
						t.Errorf("IOWrite finished: %v", st.Err)
						return 0
					}, nil)
					if err := ev.ScheduleEvent(e); err != nil {
						t.Fatal(err)
					}
					runCapped(t, ev, 1000, func() bool { return calls > 0 })
					if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
						t.Fatal(err)
					}
					closed := false
					ev.AddTimer(clock.Now().Add(time.Hour), func(*tevent.Timer, time.Time) {
						fds.forget(a)
						if err := e.Close(); err != nil {
							t.Error(err)
						}
						closed = true
					})
					before := calls
					n := runCapped(t, ev, 1000, func() bool { return closed })
					if n > 10 || calls-before > 2 {
						t.Errorf("%d loop iterations and %d callbacks while the write waited: the loop spins", n, calls-before)
					}
				})
			})
		}
	})
}
