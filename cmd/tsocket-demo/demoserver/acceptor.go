package demoserver

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// acceptor is a server's accept loop: one AcceptSend in flight, each
// stream handed to serve, accept errors (EMFILE and the like, after
// tsocket's own back-off) logged and the loop carried on. It belongs to the
// loop goroutine.
type acceptor struct {
	ev     *tevent.Context
	l      *tsocket.Listener
	req    *tevent.Req[*tsocket.Stream]
	closed bool
	serve  func(*tsocket.Stream)
	logf   func(format string, args ...any)
	name   string
}

// newAcceptor starts accepting on l, which it takes over, and hands each
// stream to serve on the loop. Accept errors go to logf prefixed with name.
func newAcceptor(ev *tevent.Context, l *tsocket.Listener, name string, serve func(*tsocket.Stream), logf func(format string, args ...any)) *acceptor {
	a := &acceptor{ev: ev, l: l, serve: serve, logf: logf, name: name}
	a.next()
	return a
}

func (a *acceptor) next() {
	a.req = tsocket.AcceptSend(a.ev, a.l)
	a.req.SetCallback(a.done)
}

func (a *acceptor) done(subreq *tevent.Req[*tsocket.Stream]) {
	a.req = nil
	s, err := tsocket.AcceptRecv(subreq)
	if a.closed {
		if s != nil {
			s.Close()
		}
		return
	}
	if err != nil {
		a.logf("%s: accept: %v", a.name, err)
	} else {
		a.serve(s)
	}
	a.next()
}

// close stops accepting and closes the listener; it reports false if it
// was closed already.
func (a *acceptor) close() bool {
	if a.closed {
		return false
	}
	a.closed = true
	if a.req != nil {
		a.req.Abandon()
	}
	a.l.Close()
	return true
}
