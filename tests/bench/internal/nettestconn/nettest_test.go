package nettestconn_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tests/bench/internal/leaktest"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"go.uber.org/goleak"
	"golang.org/x/net/nettest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, leaktest.Ignores()...)
}

// TestConn runs nettest.TestConn on NetConn over a socketpair and over
// loopback TCP, on each backend. Every pipe has a context of its own whose
// loop runs on a goroutine of its own; the pipe's stop closes both conns,
// then the context, and waits for that goroutine.
func TestConn(t *testing.T) {
	for _, backend := range tevent.Backends() {
		for _, kind := range []string{"socketpair", "tcp"} {
			t.Run(backend+"/"+kind, func(t *testing.T) {
				nettest.TestConn(t, func() (net.Conn, net.Conn, func(), error) {
					return makePipe(backend, kind)
				})
			})
		}
	}
}

func makePipe(backend, kind string) (c1, c2 net.Conn, stop func(), err error) {
	ev, err := tevent.NewContext(tevent.WithBackend(backend))
	if err != nil {
		return nil, nil, nil, err
	}
	a, b, err := streamPair(ev, kind)
	if err != nil {
		ev.Close()
		return nil, nil, nil, err
	}
	c1, c2 = tsocket.NetConn(a), tsocket.NetConn(b)
	// A far timer keeps Run waiting for posted work.
	ev.AddTimer(ev.Now().Add(time.Hour), func(*tevent.Timer, time.Time) {})
	done := make(chan error, 1)
	go func() { done <- ev.Run(context.Background()) }()
	stop = func() {
		c1.Close()
		c2.Close()
		ev.Close()
		<-done
		<-ev.Done()
	}
	return c1, c2, stop, nil
}

// streamPair returns two connected streams on ev, before its loop runs.
func streamPair(ev *tevent.Context, kind string) (*tsocket.Stream, *tsocket.Stream, error) {
	if kind == "socketpair" {
		return tsocket.Socketpair(ev)
	}
	addr, err := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	if err != nil {
		return nil, nil, err
	}
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	areq := tsocket.AcceptSend(ev, l)
	creq := tsocket.ConnectSend(ev, nil, l.Addr())
	if err := errors.Join(areq.Poll(), creq.Poll()); err != nil {
		return nil, nil, err
	}
	a, aerr := tsocket.AcceptRecv(areq)
	b, berr := tsocket.ConnectRecv(creq)
	if err := errors.Join(aerr, berr); err != nil {
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		return nil, nil, err
	}
	return a, b, nil
}
