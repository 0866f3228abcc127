package docs_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
	"github.com/gotevent/gotevent/tsocket"
)

const (
	keepAliveInterval = 2 * time.Minute
	idleTimeout       = 5 * time.Minute
)

// idleConn is the server side of a line protocol with keep-alives and an
// idle timeout, both wait events on the stream.
type idleConn struct {
	ev        *tevent.Context
	s         *tsocket.Stream
	out       *tqueue.Queue // replies and keep-alives, in order
	in        lineReader
	lastInput time.Time
}

// serveIdle serves s with a keep-alive and an idle timeout.
func serveIdle(ev *tevent.Context, s *tsocket.Stream) *idleConn {
	c := &idleConn{ev: ev, s: s, out: tqueue.New(ev, "out"), lastInput: ev.Now()}
	c.in.max = 1024
	s.AddWaitEvent(ev.Now().Add(keepAliveInterval), c.keepAlive, nil)
	s.AddWaitEvent(ev.Now().Add(idleTimeout), c.idleCheck, nil)
	c.readLine()
	return c
}

// keepAlive writes a keep-alive line every keepAliveInterval.
func (c *idleConn) keepAlive(s *tsocket.Stream, we *tsocket.WaitEvent, _ any) *tsocket.WaitEvent {
	c.send("* OK still here")
	we.Mark = we.Mark.Add(keepAliveInterval) // a time, not an interval
	return we
}

// idleCheck closes the connection once no input has come for idleTimeout.
func (c *idleConn) idleCheck(s *tsocket.Stream, we *tsocket.WaitEvent, _ any) *tsocket.WaitEvent {
	deadline := c.lastInput.Add(idleTimeout)
	if c.ev.Now().Before(deadline) {
		we.Mark = deadline // input came since: look again then
		return we
	}
	c.send("* BYE idle for " + idleTimeout.String())
	c.closeAfterWrites()
	return nil // this wait event is done
}

// readLine reads a line, answers it and records when it came.
func (c *idleConn) readLine() {
	subreq := tsocket.ReadvPDUSend(c.ev, c.s, c.in.next)
	subreq.SetCallback(func(subreq *tevent.Req[struct{}]) {
		if err := tsocket.ReadvPDURecv(subreq); err != nil {
			c.s.Close() // EOF, or closed by closeAfterWrites
			return
		}
		c.lastInput = c.ev.Now()
		c.send("OK " + c.in.line())
		c.readLine()
	})
}

// send queues a line for writing.
func (c *idleConn) send(line string) {
	queueWrites(c.ev, c.s, c.out, [][]byte{[]byte(line + "\n")})
}

// closeAfterWrites closes the stream once every write queued so far has
// gone out: WaitSend reaches the head of the queue only then.
func (c *idleConn) closeAfterWrites() {
	req := tqueue.WaitSend(c.ev, c.out)
	req.SetCallback(func(req *tevent.Req[struct{}]) {
		tqueue.WaitRecv(req)
		c.s.Close() // its wait events go with it
	})
}

// transcript runs an idle server and a client that sends NOOP at 2m30s,
// and returns what the client saw, with the fake time of each line.
func transcript(ev *tevent.Context) ([]string, error) {
	client, server, err := tsocket.Socketpair(ev)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	serveIdle(ev, server)
	start := ev.Now()

	ev.AddTimer(start.Add(150*time.Second), func(*tevent.Timer, time.Time) {
		queueWrites(ev, client, tqueue.New(ev, "client"), [][]byte{[]byte("NOOP\n")})
	})
	var seen []string
	r := &lineReader{max: 1024}
	var read func()
	read = func() {
		req := tsocket.ReadvPDUSend(ev, client, r.next)
		req.SetCallback(func(req *tevent.Req[struct{}]) {
			at := ev.Now().Sub(start)
			if err := tsocket.ReadvPDURecv(req); err != nil {
				seen = append(seen, fmt.Sprintf("+%v %v", at, err))
				return
			}
			seen = append(seen, fmt.Sprintf("+%v %s", at, r.line()))
			read()
		})
	}
	read()
	err = ev.LoopWait()
	return seen, err
}

// Keep-alives every two minutes; the idle timeout fires five minutes after
// the last input. The fake clock makes the minutes pass at once.
func Example_waitEvents() {
	ev := newFakeContext()
	defer ev.Close()
	seen, err := transcript(ev)
	fmt.Println(strings.Join(seen, "\n"))
	fmt.Println("error:", err)
	// Output:
	// +2m0s * OK still here
	// +2m30s OK NOOP
	// +4m0s * OK still here
	// +6m0s * OK still here
	// +7m30s * BYE idle for 5m0s
	// +7m30s EOF
	// error: <nil>
}

// The same conversation as a test: seven and a half minutes of protocol
// in well under a second, with the same result every run.
func TestIdleTimeout(t *testing.T) {
	clock := tevent.NewFakeClock(guideStart)
	ev, err := tevent.NewContext(tevent.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()

	realStart := time.Now()
	got, err := transcript(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"+2m0s * OK still here",
		"+2m30s OK NOOP",
		"+4m0s * OK still here",
		"+6m0s * OK still here",
		"+7m30s * BYE idle for 5m0s",
		"+7m30s EOF",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("transcript mismatch (-want +got):\n%s", diff)
	}
	if passed := clock.Now().Sub(guideStart); passed != 450*time.Second {
		t.Errorf("fake time passed: %v, want 7m30s", passed)
	}
	t.Logf("7m30s of fake time took %v", time.Since(realStart))
}
