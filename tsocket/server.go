package tsocket

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/gotevent/gotevent/tevent"
)

// Server accepts connections on a [Listener], hands each to a handler and
// keeps track of every stream it handed out until that stream is closed,
// so that it can shut them down: gracefully with [ShutdownSend], at once
// with [Server.Close], and when its context is closed.
//
// A Server belongs to the goroutine running its context's loop, as its
// listener and streams do: every method is called from there (in a
// handler, or between loop calls on the goroutine driving the loop). It
// owns the listener from Serve on and closes it when it stops accepting.
// The streams belong to the handler, which may close them at any time with
// Stream.Close (or DisconnectSend): the Server learns of it from the
// stream and counts it out of [Server.Conns] at once.
type Server struct {
	ev     *tevent.Context
	l      *Listener
	handle func(*Stream)
	conns  map[*Stream]struct{} // every stream handed out and not yet closed
	max    int                  // SetMaxConns; 0 for no limit

	acc      *tevent.Req[*Stream] // the accept in flight
	retry    *tevent.Timer        // accepting again after an accept error
	backoff  time.Duration
	stopped  bool // accepts no more: shut down, closed, or the listener closed
	closed   bool // Close ran, or the context was closed
	shut     *shutdownState
	hook     func(*Stream) // OnShutdown
	errHook  func(error)   // OnAcceptError
	acceptCB func(*tevent.Req[*Stream])
}

// Serve starts accepting connections on l and calls handle(s) for each,
// on the loop goroutine, straight from the listener's handler. handle
// starts the requests that serve s and returns; it must not block. Every
// stream is tracked until it is closed, by whoever closes it.
//
// Connections are accepted in batches: the next accept starts from the
// callback of the last, so up to 16 connections are taken per readiness
// report (see [AcceptSend]). AcceptSend already retries ECONNABORTED and,
// when the process is out of descriptors (EMFILE, ENFILE) or memory, stops
// watching the listener and retries on a timer instead of spinning; the
// Server sees none of that. Any other accept error is passed to the
// function set with [Server.OnAcceptError], and the Server accepts again
// after a back-off that doubles from 5 ms to 1 s (as net/http's Serve
// does), reset by the next connection accepted. The accept error never
// stops the Server; closing l does: the Server then accepts no more, and
// keeps tracking the streams it has.
//
// Serve registers the Server with ev.OnClose: closing the context closes
// the listener and every stream the Server still tracks (a request on
// them in flight then ends with ErrClosed, without calling back, as any
// request at teardown does). The registration lasts as long as the
// context: make a Server per listener, not per connection.
func Serve(ev *tevent.Context, l *Listener, handle func(s *Stream)) *Server {
	srv := &Server{ev: ev, l: l, handle: handle, conns: make(map[*Stream]struct{})}
	srv.acceptCB = srv.acceptDone
	ev.OnClose(srv.contextClosed)
	srv.accept()
	return srv
}

// Addr returns the address the Server's listener is bound to.
func (srv *Server) Addr() Address { return srv.l.Addr() }

// Conns returns how many of the streams the Server handed out are still
// open.
func (srv *Server) Conns() int { return len(srv.conns) }

// SetMaxConns bounds the open streams at n (0 or less: no bound, the
// default). With n open, the Server stops accepting, leaving new
// connections in the listen backlog, where the kernel keeps them (and,
// once the backlog is full, makes clients wait); it accepts again as soon
// as one of its streams is closed. Connections are not accepted and
// closed at once, which would turn a full server into a refusing one. A
// lower bound set while more streams are open closes none of them.
func (srv *Server) SetMaxConns(n int) {
	srv.max = max(n, 0)
	srv.accept()
}

// OnShutdown sets the function [ShutdownSend] calls for each stream still
// open when the shutdown starts, on the loop goroutine: where a server
// tells its clients it is going away (an IMAP "* BYE", an SMTP 421) and
// makes them finish. It may start requests on s or close it; it must not
// block. Calling OnShutdown again replaces the function.
func (srv *Server) OnShutdown(fn func(s *Stream)) { srv.hook = fn }

// OnAcceptError sets the function told of an accept error the Server
// retries after a back-off (see [Serve]); nil, the default, drops them.
// It runs on the loop goroutine and must not block.
func (srv *Server) OnAcceptError(fn func(err error)) { srv.errHook = fn }

// Close closes the Server at once: it stops accepting, closes the
// listener and closes every stream it still tracks (their requests in
// flight fail with net.ErrClosed, their callbacks on a later iteration).
// A ShutdownSend in flight then fails with a [*ShutdownError] wrapping
// net.ErrClosed. Closing again does nothing. It returns the errors of
// close(2), joined.
func (srv *Server) Close() error {
	if srv.closed {
		return nil
	}
	srv.closed = true
	st := srv.shut
	srv.shut = nil
	err := srv.stopAccepting()
	n, cerr := srv.closeAll()
	if st != nil {
		st.finish(&ShutdownError{Forced: n, Err: net.ErrClosed})
	}
	return errors.Join(err, cerr)
}

// contextClosed is the Server's OnClose function. A shutdown in flight is
// left to the teardown, which ends it with ErrClosed.
func (srv *Server) contextClosed() {
	srv.shut = nil
	_ = srv.Close() // a teardown has nobody to report to
}

// accept starts the next accept unless the Server has stopped, is at its
// bound, is backing off, or has one in flight.
func (srv *Server) accept() {
	if srv.stopped || srv.acc != nil || srv.max > 0 && len(srv.conns) >= srv.max ||
		srv.retry != nil && srv.retry.Pending() {
		return
	}
	srv.acc = AcceptSend(srv.ev, srv.l)
	srv.acc.SetCallback(srv.acceptCB)
}

func (srv *Server) acceptDone(subreq *tevent.Req[*Stream]) {
	srv.acc = nil
	s, err := AcceptRecv(subreq)
	switch {
	case err == nil:
		srv.backoff = 0
		s.srv = srv
		srv.conns[s] = struct{}{}
		srv.handle(s)
	case errors.Is(err, net.ErrClosed):
		srv.stopped = true // the listener was closed under us
		return
	default:
		if srv.errHook != nil {
			srv.errHook(err)
		}
		srv.backOff()
		return
	}
	srv.accept() // from the callback, so the listener's batch goes on
}

// backOff accepts again after a delay that doubles up to a cap.
func (srv *Server) backOff() {
	srv.backoff = min(max(2*srv.backoff, acceptBackoffMin), acceptBackoffMax)
	at := srv.ev.Now().Add(srv.backoff)
	if srv.retry == nil {
		srv.retry = srv.ev.AddTimer(at, func(*tevent.Timer, time.Time) { srv.accept() })
		return
	}
	srv.retry.Reset(at)
}

// replace tracks ts, a TLS stream that took over s, in place of s.
func (srv *Server) replace(s, ts *Stream) {
	if _, ok := srv.conns[s]; !ok {
		return
	}
	delete(srv.conns, s)
	srv.conns[ts] = struct{}{}
	ts.srv = srv
}

// forget is called by every tracked stream's first Close.
func (srv *Server) forget(s *Stream) {
	if _, ok := srv.conns[s]; !ok {
		return
	}
	delete(srv.conns, s)
	if srv.shut != nil {
		srv.shut.check()
	}
	srv.accept() // below the bound again
}

// stopAccepting ends the accept in flight and closes the listener.
func (srv *Server) stopAccepting() error {
	srv.stopped = true
	if srv.retry != nil {
		srv.retry.Cancel()
	}
	if srv.acc != nil {
		srv.acc.Abandon()
		srv.acc = nil
	}
	return srv.l.Close()
}

// open returns the streams still open, for a loop that may close them.
func (srv *Server) open() []*Stream {
	list := make([]*Stream, 0, len(srv.conns))
	for s := range srv.conns {
		list = append(list, s)
	}
	return list
}

// closeAll closes every stream still open and returns how many it closed.
func (srv *Server) closeAll() (int, error) {
	var errs []error
	n := 0
	for _, s := range srv.open() {
		if s.closed {
			continue // closed by an earlier one's close hook
		}
		n++
		if err := s.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// ShutdownError is the error of a [ShutdownSend] that closed streams
// itself. Test for it with errors.As, or for its cause with errors.Is:
// errors.Is(err, tevent.ErrTimedOut) (and syscall.ETIMEDOUT) when the
// grace period ran out, errors.Is(err, net.ErrClosed) when Server.Close
// cut the shutdown short.
type ShutdownError struct {
	Forced int   // streams closed by the Server, not by their handlers
	Err    error // why: tevent.ErrTimedOut or net.ErrClosed
}

// Error says how many streams were closed by force, and why.
func (e *ShutdownError) Error() string {
	return fmt.Sprintf("tsocket: shutdown: %d connections closed by force: %v", e.Forced, e.Err)
}

// Unwrap returns the cause.
func (e *ShutdownError) Unwrap() error { return e.Err }

// Timeout reports whether the grace period ran out, so that a
// ShutdownError is a net.Error.
func (e *ShutdownError) Timeout() bool { return errors.Is(e.Err, syscall.ETIMEDOUT) }

// Temporary reports false: a shutdown is not retried.
func (e *ShutdownError) Temporary() bool { return false }

// shutdownState is the ShutdownSend in flight.
type shutdownState struct {
	srv     *Server
	req     *tevent.Req[struct{}]
	timer   *tevent.Timer
	hooking bool // the OnShutdown calls are still running
}

// ShutdownSend shuts srv down gracefully, as net/http's Server.Shutdown
// does: it stops accepting and closes the listener (connections still in
// the backlog are reset by the kernel), calls the OnShutdown function for
// each stream still open, then waits until the handlers have closed every
// stream or grace has passed, whichever comes first. Streams still open
// then are closed by force: their requests in flight fail with
// net.ErrClosed. grace is read on the context's clock (a fake clock
// included); zero or less closes what the OnShutdown calls left open on
// the next iteration.
//
// The OnShutdown calls are made inside ShutdownSend, before it returns.
// The request finishes once no stream is left, always on a later
// iteration (its callback never runs inside the Stream.Close that closed
// the last stream); the Server is then closed. A Server shuts down once:
// a second ShutdownSend while one is in flight fails with ErrBusy, and one
// after the first finished or after Close fails with net.ErrClosed.
// Abandoning the request leaves the Server not accepting, with its
// streams open and no grace timer; Close closes them.
func ShutdownSend(ev *tevent.Context, srv *Server, grace time.Duration) *tevent.Req[struct{}] {
	req := tevent.NewReq[struct{}](ev)
	switch {
	case srv.closed:
		req.Error(srv.opErr(errClosed))
		return req.Post()
	case srv.shut != nil:
		req.Error(srv.opErr(ErrBusy))
		return req.Post()
	}
	req.DeferCallback()
	st := &shutdownState{srv: srv, req: req, hooking: true}
	srv.shut = st
	req.SetCleanupFn(st.cleanup)
	// The listener's close error cannot help a shutdown: the descriptor
	// is gone either way, and the streams still need closing.
	_ = srv.stopAccepting()
	if srv.hook != nil {
		for _, s := range srv.open() {
			if !s.closed && srv.shut == st {
				srv.hook(s)
			}
		}
	}
	st.hooking = false
	if srv.shut == st { // not closed from a hook
		st.timer = ev.AddTimer(ev.Now().Add(grace), st.expire)
		st.check()
	}
	return req
}

// ShutdownRecv returns nil if every stream was closed by its handler
// within the grace period; a [*ShutdownError] saying how many the Server
// closed by force otherwise; ErrBusy or net.ErrClosed (in an *OpError)
// for a shutdown refused; tevent.ErrClosed if the context was closed
// meanwhile.
func ShutdownRecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}

func (srv *Server) opErr(err error) error {
	return opError("shutdown", srv.l.network, srv.l.Addr(), nil, err)
}

// check finishes the shutdown once no stream is left.
func (st *shutdownState) check() {
	if !st.hooking && len(st.srv.conns) == 0 {
		st.srv.shut = nil
		st.srv.closed = true
		st.finish(nil)
	}
}

// expire closes what is left when the grace period is over.
func (st *shutdownState) expire(*tevent.Timer, time.Time) {
	st.srv.shut = nil // the closes below must not finish it with nil
	st.srv.closed = true
	n, _ := st.srv.closeAll()
	st.finish(&ShutdownError{Forced: n, Err: tevent.ErrTimedOut})
}

func (st *shutdownState) finish(err error) {
	if st.timer != nil {
		st.timer.Cancel()
	}
	if !st.req.Error(err) {
		st.req.Done(struct{}{})
	}
}

// cleanup forgets a shutdown that was abandoned or ended by the teardown.
func (st *shutdownState) cleanup(tevent.State) {
	if st.timer != nil {
		st.timer.Cancel()
	}
	if st.srv.shut == st {
		st.srv.shut = nil
	}
}
