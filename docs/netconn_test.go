package docs_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// handleConn is the goroutine-per-connection version of serveUpper: one
// goroutine per client, blocked in Read most of its life.
func handleConn(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for {
		conn.SetReadDeadline(time.Now().Add(idleTimeout))
		line, err := r.ReadString('\n')
		if err != nil {
			return // EOF, or the deadline passed
		}
		if _, err := conn.Write([]byte(strings.ToUpper(line))); err != nil {
			return
		}
	}
}

func TestHandleConn(t *testing.T) {
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		handleConn(server)
		close(done)
	}()
	fmt.Fprintf(client, "hello\n")
	reply, err := bufio.NewReader(client).ReadString('\n')
	client.Close()
	<-done
	if err != nil || reply != "HELLO\n" {
		t.Fatalf("reply %q, error %v; want HELLO", reply, err)
	}
}

// A read with an end time is the counterpart of conn.SetReadDeadline.
func Example_readDeadline() {
	ev := newFakeContext()
	defer ev.Close()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	defer b.Close()

	r := &lineReader{max: 1024}
	rreq := tsocket.ReadvPDUSend(ev, b, r.next)
	rreq.SetEndTime(ev.Now().Add(30 * time.Second))
	if err := rreq.Poll(); err != nil {
		fmt.Println(err)
		return
	}
	err = tsocket.ReadvPDURecv(rreq)
	fmt.Println(err, "after", ev.Now().Sub(guideStart))
	// Output:
	// tevent: request timed out after 30s
}

// cancelOnDone cancels req once ctx is done: the bridge from a
// context.Context to a request. Cancel must run on the loop, so it goes
// through Post. Calling stop detaches it.
func cancelOnDone(ctx context.Context, req tevent.Request) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		req.Context().Post(func() { req.Cancel() })
	})
}

func TestCancelOnDone(t *testing.T) {
	ev, err := tevent.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	req := tevent.WakeupSend(ev, ev.Now().Add(time.Hour))
	stop := cancelOnDone(ctx, req)
	defer stop()
	go cancel() // from another goroutine, as a caller's context would be
	if err := req.Poll(); err != nil {
		t.Fatal(err)
	}
	if err := tevent.WakeupRecv(req); !errors.Is(err, tevent.ErrCancelled) {
		t.Fatalf("WakeupRecv = %v, want ErrCancelled", err)
	}
}
