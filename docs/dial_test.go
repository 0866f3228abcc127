package docs_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// dialState is what one dial needs between its steps.
type dialState struct {
	ev       *tevent.Context
	req      *tevent.Req[*tsocket.Stream]
	addr     tsocket.Address
	tries    int             // connects left
	interval time.Duration   // pause between connects
	step     tevent.Request  // the subrequest in flight, for cancel
	conn     *tsocket.Stream // the result, until the caller takes it
}

// dialSend connects to addr, trying again every interval while nothing
// listens there yet, at most tries times.
func dialSend(ev *tevent.Context, addr tsocket.Address, tries int, interval time.Duration) *tevent.Req[*tsocket.Stream] {
	req := tevent.NewReq[*tsocket.Stream](ev)
	if tries < 1 {
		req.Error(fmt.Errorf("dial %v: tries must be at least 1", addr))
		return req.Post()
	}
	st := &dialState{ev: ev, req: req, addr: addr, tries: tries, interval: interval}
	req.SetCancelFn(st.cancel)
	req.SetCleanupFn(st.cleanup)
	st.connect()
	return req
}

// connect starts one connect attempt.
func (st *dialState) connect() {
	st.tries--
	subreq := tsocket.ConnectSend(st.ev, nil, st.addr)
	st.req.AddSubreq(subreq)
	st.step = subreq
	subreq.SetCallback(st.connectDone)
}

// connectDone finishes the dial, or pauses before the next attempt.
func (st *dialState) connectDone(subreq *tevent.Req[*tsocket.Stream]) {
	st.step = nil
	s, err := tsocket.ConnectRecv(subreq)
	if err == nil {
		st.conn = s
		st.req.Done(s)
		return
	}
	if st.tries == 0 || !notListening(err) {
		st.req.Error(err)
		return
	}
	pause := tevent.WakeupSend(st.ev, st.ev.Now().Add(st.interval))
	st.req.AddSubreq(pause)
	st.step = pause
	pause.SetCallback(st.pauseDone)
}

// notListening reports whether a connect failed because no server is
// there (yet): nobody listening on the port, or no unix socket file.
func notListening(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT)
}

// pauseDone starts the next attempt.
func (st *dialState) pauseDone(subreq *tevent.Req[struct{}]) {
	st.step = nil
	if st.req.Error(tevent.WakeupRecv(subreq)) {
		return
	}
	st.connect()
}

// dialRecv returns the connected stream, which the caller now owns.
func dialRecv(req *tevent.Req[*tsocket.Stream]) (*tsocket.Stream, error) {
	return req.Recv()
}

// cancel passes Cancel on to the step in flight. A cancelled pause fails
// with ErrCancelled, pauseDone passes that on, and the dial fails with it.
// A connect cannot be cancelled: Cancel then declines and the dial goes on.
func (st *dialState) cancel() bool {
	return st.step != nil && st.step.Cancel()
}

// cleanup closes a connection nobody will collect: the caller abandoned
// the dial after it had connected.
func (st *dialState) cleanup(state tevent.State) {
	if state != tevent.StateReceived {
		return // finished, not yet collected: keep the result
	}
	if st.req.Abandoned() && st.conn != nil {
		st.conn.Close()
	}
	st.conn = nil
}

// unusedAddress returns a loopback address nothing listens on: a port the
// kernel picked for a listener that is closed again.
func unusedAddress(ev *tevent.Context) tsocket.Address {
	loopback, err := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	if err != nil {
		panic(err)
	}
	l, err := tsocket.Listen(ev, loopback)
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr()
}

var guideStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// newFakeContext is a context on a fake clock reading guideStart.
func newFakeContext() *tevent.Context {
	ev, err := tevent.NewContext(tevent.WithClock(tevent.NewFakeClock(guideStart)))
	if err != nil {
		panic(err)
	}
	return ev
}

// The server comes up 250ms after the client starts dialling; the fourth
// attempt, at 300ms, connects.
func Example_dial() {
	ev := newFakeContext()
	defer ev.Close()
	addr := unusedAddress(ev)
	var l *tsocket.Listener
	ev.AddTimer(guideStart.Add(250*time.Millisecond), func(*tevent.Timer, time.Time) {
		var err error
		if l, err = tsocket.Listen(ev, addr); err != nil {
			fmt.Println(err)
		}
	})

	start := ev.Now()
	req := dialSend(ev, addr, 5, 100*time.Millisecond)
	req.SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
		s, err := dialRecv(req)
		if err != nil {
			fmt.Println("dial failed:", err)
			return
		}
		defer s.Close()
		fmt.Println("connected after", ev.Now().Sub(start))
	})
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	if l != nil {
		l.Close()
	}
	// Output:
	// connected after 300ms
}

// With no server at all, the end time ends the dial.
func Example_dialTimeout() {
	ev := newFakeContext()
	defer ev.Close()
	addr := unusedAddress(ev)

	req := dialSend(ev, addr, 100, 100*time.Millisecond)
	req.SetEndTime(ev.Now().Add(250 * time.Millisecond))
	if err := req.Poll(); err != nil {
		fmt.Println(err)
		return
	}
	_, err := dialRecv(req)
	fmt.Println(err, errors.Is(err, tevent.ErrTimedOut))
	fmt.Println("gave up after", ev.Now().Sub(guideStart))
	// Output:
	// tevent: request timed out true
	// gave up after 250ms
}

// Cancel reaches the pause in flight; the dial fails with ErrCancelled, and
// its callback runs inside Cancel.
func Example_dialCancel() {
	ev := newFakeContext()
	defer ev.Close()
	addr := unusedAddress(ev)

	req := dialSend(ev, addr, 100, 100*time.Millisecond)
	req.SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
		_, err := dialRecv(req)
		fmt.Println("callback:", err)
	})
	ev.AddTimer(ev.Now().Add(150*time.Millisecond), func(*tevent.Timer, time.Time) {
		ok := req.Cancel()
		fmt.Println("Cancel returned", ok)
	})
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// callback: tevent: request cancelled
	// Cancel returned true
}

// Abandon drops the dial and everything it started: the loop has nothing
// left to do and returns at once, and the callback never runs.
func Example_dialAbandon() {
	ev := newFakeContext()
	defer ev.Close()
	addr := unusedAddress(ev)

	called := false
	req := dialSend(ev, addr, 100, 100*time.Millisecond)
	req.SetCallback(func(*tevent.Req[*tsocket.Stream]) { called = true })
	req.Abandon()
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("callback ran:", called, "time passed:", ev.Now().Sub(guideStart))
	// Output:
	// callback ran: false time passed: 0s
}

// A dial abandoned after it connected closes the stream nobody collected.
func TestDialAbandonedAfterConnectClosesStream(t *testing.T) {
	testutil.NoFDLeak(t)
	ev := newFakeContext()
	defer ev.Close()
	addr := unusedAddress(ev)
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	req := dialSend(ev, addr, 1, time.Second)
	if err := req.Poll(); err != nil {
		t.Fatal(err)
	}
	if req.State() != tevent.StateDone {
		t.Fatalf("state %v, want done", req.State())
	}
	before := testutil.OpenFDs()
	req.Abandon()
	if after := testutil.OpenFDs(); after != before-1 {
		t.Fatalf("open fds %d after Abandon, want %d", after, before-1)
	}
}

// Zero tries fails through Post, never inside dialSend.
func TestDialZeroTries(t *testing.T) {
	ev := newFakeContext()
	defer ev.Close()
	addr := unusedAddress(ev)
	called := false
	req := dialSend(ev, addr, 0, time.Second)
	if req.IsInProgress() {
		t.Fatal("dial with zero tries is in progress")
	}
	req.SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
		called = true
		if _, err := dialRecv(req); err == nil {
			t.Error("dial with zero tries succeeded")
		}
	})
	if err := ev.LoopWait(); err != nil {
		t.Fatal(err)
	}
	if !called {
		t.Fatal("callback did not run")
	}
}
