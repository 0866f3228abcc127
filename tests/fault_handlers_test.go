package tests

import (
	"bytes"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// readyPairs makes n socketpairs whose first ends are readable (a byte
// waits in each) and returns those ends.
func readyPairs(t *testing.T, fds *rawFDs, n int) []int {
	t.Helper()
	var ends []int
	for range n {
		a, b := fds.socketpair(t)
		if _, err := unix.Write(b, []byte{1}); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, a)
	}
	return ends
}

// Handlers that take events out of the loop while the events of the same
// wait are still being dispatched: the loop never calls a removed event, even
// when its fd was closed and the number reused for a new event at once, and
// it never spins or loses an event that is still registered.
func TestFaultHandlersRemoveEvents(t *testing.T) {
	const n = 16
	forEachBackend(t, func(t *testing.T, backend string) {
		t.Run("remove-own", func(t *testing.T) {
			testutil.NoFDLeak(t)
			fds := newRawFDs(t)
			ev := ctxOn(t, backend)
			calls := 0
			for _, fd := range readyPairs(t, fds, n) {
				if _, err := ev.AddFD(fd, tevent.FDRead, func(fde *tevent.FD, _ tevent.Flags) {
					calls++
					fde.Remove() // still readable: level-triggered, it would be called again
				}); err != nil {
					t.Fatal(err)
				}
			}
			// Every fd is called once, and then nothing is left.
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
			if calls != n {
				t.Fatalf("%d calls, want %d", calls, n)
			}
		})

		t.Run("remove-others", func(t *testing.T) {
			testutil.NoFDLeak(t)
			fds := newRawFDs(t)
			ev := ctxOn(t, backend)
			var events []*tevent.FD
			calls := 0
			for _, fd := range readyPairs(t, fds, n) {
				fde, err := ev.AddFD(fd, tevent.FDRead, func(*tevent.FD, tevent.Flags) {
					calls++
					for _, e := range events {
						e.Remove()
					}
				})
				if err != nil {
					t.Fatal(err)
				}
				events = append(events, fde)
			}
			// All n were ready in one wait; the first handler removed
			// them all, so no other is called, in this iteration or later.
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Fatalf("%d calls, want 1", calls)
			}
		})

		t.Run("close-others-and-reuse", func(t *testing.T) {
			testutil.NoFDLeak(t)
			fds := newRawFDs(t)
			ev := ctxOn(t, backend)
			var events []*tevent.FD
			oldCalls, newCalls, reused := 0, 0, 0
			var fresh []int // the new events' peers
			handler := func(fde *tevent.FD, _ tevent.Flags) {
				oldCalls++
				closed := map[int]bool{}
				for i, e := range events {
					if e == fde {
						continue
					}
					fd := e.Fd()
					fds.forget(fd)
					if i%2 == 0 {
						// Auto-close: removed, then closed.
						e.SetAutoClose(true)
						e.Remove()
					} else {
						// Closed behind the event's back, then removed.
						unix.Close(fd)
						e.Remove()
					}
					closed[fd] = true
				}
				// New sockets take the freed numbers; their events must not
				// see the old sockets' readiness from this wait.
				for range len(closed) {
					a, b := fds.socketpair(t)
					if closed[a] {
						reused++
					}
					fresh = append(fresh, b)
					if _, err := ev.AddFD(a, tevent.FDRead, func(fde *tevent.FD, _ tevent.Flags) {
						newCalls++
						var buf [1]byte
						if n, err := unix.Read(fde.Fd(), buf[:]); n != 1 || err != nil {
							t.Errorf("new event called with nothing to read: %d, %v", n, err)
						}
						fde.Remove()
					}); err != nil {
						t.Error(err)
					}
				}
				fde.Remove()
			}
			for _, fd := range readyPairs(t, fds, n) {
				fde, err := ev.AddFD(fd, tevent.FDRead, handler)
				if err != nil {
					t.Fatal(err)
				}
				events = append(events, fde)
			}
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
			if oldCalls != 1 || newCalls != 0 {
				t.Fatalf("after the first wait: %d old calls (want 1), %d new calls (want 0)", oldCalls, newCalls)
			}
			if reused == 0 {
				t.Fatal("no descriptor number was reused: the test proves nothing")
			}
			// The new events work once their sockets are readable.
			for _, b := range fresh {
				if _, err := unix.Write(b, []byte{2}); err != nil {
					t.Fatal(err)
				}
			}
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
			if newCalls != n-1 {
				t.Fatalf("%d new events called, want %d", newCalls, n-1)
			}
		})
	})
}

// Callbacks that abandon requests: the request whose callback (or
// NextVectorFunc) is running, or another request that is ready in the same
// wait. An abandoned request never calls back, and the stream it was
// reading is free for the next request, with no byte lost.
func TestFaultHandlersAbandonRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		t.Run("pdu-abandons-itself", func(t *testing.T) {
			testutil.NoFDLeak(t)
			ev := ctxOn(t, backend)
			a, b := streamsOf(t, ev, "unix")
			var req *tevent.Req[struct{}]
			head := make([]byte, 4)
			step := 0
			req = tsocket.ReadvPDUSend(ev, b, func(*tsocket.Stream) ([][]byte, error) {
				step++
				if step == 1 {
					return [][]byte{head}, nil
				}
				req.Abandon() // from inside the engine, with "body" unread
				return [][]byte{make([]byte, 4)}, nil
			})
			req.SetCallback(func(*tevent.Req[struct{}]) { t.Error("an abandoned request called back") })
			writeAll(t, ev, a, "headbody") // after the send: next runs from the loop
			runUntil(t, ev, "the abandon", func() bool { return step == 2 })
			// The stream's read slot is free and the rest is still there.
			body := make([]byte, 4)
			r := tsocket.ReadvSend(ev, b, [][]byte{body})
			waitFor(t, ev, "the next read", r)
			if _, err := tsocket.ReadvRecv(r); err != nil || string(head)+string(body) != "headbody" {
				t.Fatalf("after the abandon: %q %q, %v", head, body, err)
			}
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("callback-closes-peer-streams", func(t *testing.T) {
			// A readv callback closes every other stream while their
			// readvs are ready in the same wait: those fail with
			// net.ErrClosed on a later iteration instead of delivering
			// data, and no descriptor is left open.
			testutil.NoFDLeak(t)
			ev := ctxOn(t, backend)
			const n = 8
			var streams []*tsocket.Stream
			ok, closedErrs := 0, 0
			for range n {
				a, b := streamsOf(t, ev, "unix")
				streams = append(streams, b)
				req := tsocket.ReadvSend(ev, b, [][]byte{make([]byte, 1)})
				req.SetCallback(func(req *tevent.Req[int]) {
					_, err := tsocket.ReadvRecv(req)
					switch {
					case err == nil:
						ok++
						for _, s := range streams {
							if s != b {
								s.Close()
							}
						}
					case errors.Is(err, net.ErrClosed):
						closedErrs++
					default:
						t.Errorf("readv: %v", err)
					}
				})
				if _, err := unix.Write(a.Fd(), []byte{1}); err != nil {
					t.Fatal(err)
				}
			}
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
			if ok != 1 || closedErrs != n-1 {
				t.Fatalf("%d readvs succeeded and %d failed with net.ErrClosed; want 1 and %d", ok, closedErrs, n-1)
			}
		})

		t.Run("callback-abandons-peer", func(t *testing.T) {
			testutil.NoFDLeak(t)
			ev := ctxOn(t, backend)
			const n = 8
			var reqs []*tevent.Req[int]
			var ins, outs []*tsocket.Stream
			bufs := make([][]byte, n)
			called := 0
			for i := range n {
				a, b := streamsOf(t, ev, "unix")
				outs, ins = append(outs, a), append(ins, b)
				bufs[i] = make([]byte, 3)
				req := tsocket.ReadvSend(ev, b, [][]byte{bufs[i]})
				req.SetCallback(func(req *tevent.Req[int]) {
					called++
					for _, other := range reqs {
						other.Abandon() // its own included: received, so a no-op
					}
					if _, err := tsocket.ReadvRecv(req); err != nil {
						t.Error(err)
					}
				})
				reqs = append(reqs, req)
			}
			// Make every read ready in the same wait.
			for i, a := range outs {
				if _, err := unix.Write(a.Fd(), []byte{'x', 'y', byte('0' + i)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
			if called != 1 {
				t.Fatalf("%d callbacks, want 1: abandoned requests called back", called)
			}
			// Each abandoned reader's bytes are still in its socket or, for
			// the one that completed, in its buffer: nothing was lost.
			for i, b := range ins {
				want := []byte{'x', 'y', byte('0' + i)}
				if bytes.Equal(bufs[i], want) {
					continue
				}
				got := make([]byte, 3)
				r := tsocket.ReadvSend(ev, b, [][]byte{got})
				waitFor(t, ev, "a read after the abandon", r)
				if _, err := tsocket.ReadvRecv(r); err != nil || !bytes.Equal(got, want) {
					t.Errorf("stream %d after the abandon: %q, %v", i, got, err)
				}
			}
		})
	})
}

// Close called from inside every kind of handler while more of the same
// kind are due: the handler's Close returns nil and the context is torn
// down when the handler returns, no other handler runs afterwards (posted
// functions accepted before Close all run, during the teardown, and never
// after Done is closed),
// the loop call returns, later calls see ErrClosed, requests in flight never
// call back, and every descriptor the context owned is closed.
func TestFaultHandlersCloseContext(t *testing.T) {
	kinds := []string{"fd", "timer", "immediate", "post", "request", "mask", "signal"}
	forEachBackend(t, func(t *testing.T, backend string) {
		for _, kind := range kinds {
			t.Run(kind, func(t *testing.T) {
				testutil.NoFDLeak(t)
				fds := newRawFDs(t)
				ev := ctxOn(t, backend)
				var closedAt = -1 // calls when Close returned
				calls := 0
				var closeErr error
				closeNow := func() {
					closeErr = ev.Close()
					closedAt = calls
				}
				handler := func() {
					calls++
					if closedAt < 0 {
						closeNow()
					}
				}
				const n = 6
				switch kind {
				case "fd":
					for _, fd := range readyPairs(t, fds, n) {
						fds.forget(fd)
						fde, err := ev.AddFD(fd, tevent.FDRead, func(*tevent.FD, tevent.Flags) { handler() })
						if err != nil {
							t.Fatal(err)
						}
						fde.SetAutoClose(true) // Close closes them
					}
				case "timer":
					for range n {
						ev.AddTimer(ev.Now(), func(*tevent.Timer, time.Time) { handler() })
					}
				case "immediate":
					for range n {
						ev.ScheduleImmediate(handler)
					}
				case "post":
					for range n {
						if err := ev.Post(handler); err != nil {
							t.Fatal(err)
						}
					}
				case "request":
					for range n {
						a, b := streamsOf(t, ev, "unix")
						r := tsocket.ReadvSend(ev, b, [][]byte{make([]byte, 1)})
						r.SetCallback(func(*tevent.Req[int]) { handler() })
						if _, err := unix.Write(a.Fd(), []byte{1}); err != nil {
							t.Fatal(err)
						}
					}
				case "mask":
					for _, fd := range readyPairs(t, fds, n) {
						e := ev.BuildFDEvent(fd, tevent.FDRead, func(*tevent.MaskEvent, tevent.Flags, time.Time) tevent.Flags {
							handler()
							return tevent.FDRead
						}, nil)
						if err := ev.ScheduleEvent(e); err != nil {
							t.Fatal(err)
						}
					}
				case "signal":
					for _, sig := range []os.Signal{syscall.SIGUSR1, syscall.SIGUSR2} {
						if _, err := ev.AddSignal(sig, func(os.Signal, int) { handler() }); err != nil {
							t.Fatal(err)
						}
					}
					// A signal a process sends itself is handled by the
					// sending thread before kill returns, so both are in
					// the runtime's hands (and delivered, possibly in one
					// iteration) before the loop starts; neither can
					// arrive after Close has stopped their notification.
					for _, sig := range []unix.Signal{unix.SIGUSR1, unix.SIGUSR2} {
						if err := unix.Kill(os.Getpid(), sig); err != nil {
							t.Fatal(err)
						}
					}
				}
				err := ev.LoopWait()
				if err != nil && !errors.Is(err, tevent.ErrClosed) {
					t.Fatalf("LoopWait: %v", err)
				}
				if closedAt < 0 {
					t.Fatal("no handler ran")
				}
				if closeErr != nil {
					t.Errorf("Close inside a %s handler: %v", kind, closeErr)
				}
				<-ev.Done()
				switch {
				case kind == "post" && calls != n:
					t.Errorf("%d of %d accepted posts ran", calls, n)
				case kind != "post" && calls != closedAt:
					t.Errorf("%d handler(s) ran after Close returned inside a %s handler", calls-closedAt, kind)
				}
				if err := ev.Close(); err != nil {
					t.Errorf("second Close: %v", err)
				}
				if err := ev.LoopOnce(); !errors.Is(err, tevent.ErrClosed) {
					t.Errorf("LoopOnce after Close: %v, want ErrClosed", err)
				}
				if err := ev.Post(func() { t.Error("ran after Close") }); !errors.Is(err, tevent.ErrClosed) {
					t.Errorf("Post after Close: %v, want ErrClosed", err)
				}
				if _, err := ev.AddFD(0, tevent.FDRead, func(*tevent.FD, tevent.Flags) {}); !errors.Is(err, tevent.ErrClosed) {
					t.Errorf("AddFD after Close: %v, want ErrClosed", err)
				}
			})
		}
	})
}

// A loop run from inside a posted function (Poll or LoopUntil nested in a
// handler, which the guide advises against but the loop does not refuse)
// still runs every posted function exactly once, including ones posted by
// posted functions while the inner loop runs its batch. Before the fix,
// the inner batch shared its array with the queue new posts went to: two
// posts made by the batch's first function overwrote its second entry,
// which was lost, and left a nil entry that the next batch called.
func TestFaultNestedLoopPostsThatPost(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ev := ctxOn(t, backend)
		ran := map[string]int{}
		post := func(name string, then func()) {
			if err := ev.Post(func() {
				ran[name]++
				if then != nil {
					then()
				}
			}); err != nil {
				t.Fatal(err)
			}
		}
		// A first batch of several, so the queue keeps a spare array.
		for _, name := range []string{"w1", "w2", "w3", "w4"} {
			post(name, nil)
		}
		runUntil(t, ev, "the warm-up posts", func() bool { return ran["w4"] == 1 })
		post("outer", func() {
			post("f1", func() {
				post("g1", nil)
				post("g2", nil)
			})
			post("f2", nil)
			runUntil(t, ev, "the nested posts", func() bool { return ran["f2"] > 0 && ran["g1"] > 0 && ran["g2"] > 0 })
		})
		runUntil(t, ev, "the outer post", func() bool { return ran["outer"] == 1 })
		for _, name := range []string{"w1", "w2", "w3", "w4", "outer", "f1", "f2", "g1", "g2"} {
			if ran[name] != 1 {
				t.Errorf("%s ran %d times, want once", name, ran[name])
			}
		}
	})
}
