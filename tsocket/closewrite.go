package tsocket

import (
	"errors"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// CloseWriteSend shuts down the writing side of s (shutdown(2) with
// SHUT_WR, as net.TCPConn.CloseWrite) once the writev in flight, if any,
// is over, however it ends: the peer reads every byte written, then the
// end of the stream, and s goes on reading what the peer sends (a
// half-close; a client says it has no more requests, a server that it has
// no more replies). On a TLS stream close_notify goes first, waiting for
// the socket as long as it is full, then the shutdown, so a crypto/tls
// peer reads io.EOF rather than a truncation.
//
// Afterwards writes fail: on a plain stream with the kernel's answer to a
// write after shutdown, EPIPE, as after net.TCPConn.CloseWrite; on a TLS
// stream with net.ErrClosed, since crypto/tls refuses to write after
// close_notify. Close is still what releases the descriptor. Calling it
// again shuts down again, with the kernel's answer.
//
// Writes through a Writer must be over first (WriterDrainSend to 0): the
// shutdown waits for the writev in flight, not for what a Writer queues.
// A CloseWriteSend waiting for that writev holds the write side: a second
// fails with ErrBusy. Abandoning it, or its end time passing, leaves the
// stream as it was if the shutdown has not been made. It finishes through
// Post when there was nothing to wait for. Used on the loop goroutine, as
// every request on s.
func CloseWriteSend(ev *tevent.Context, s *Stream) *tevent.Req[struct{}] {
	req := tevent.NewReq[struct{}](ev)
	var err error
	switch {
	case s.closed:
		err = errClosed
	case s.x != nil && s.x.w.closing != nil:
		err = ErrBusy
	default:
		err = s.reg.use(ev, s.busy())
	}
	if req.Error(s.opErr("shutdown", err)) {
		return req.Post()
	}
	if wreq := s.wr.req; wreq != nil {
		// Wait for the writev in flight. Its cleanup function runs
		// however it ends (done, failed, timed out, cancelled, abandoned,
		// failed by Close), before its callback: chained onto it, the
		// shutdown comes then. Every write request's cleanup is
		// s.cleanup or writeCleanup, which does the same and more.
		x := s.extra()
		x.w.closing = req
		wreq.SetCleanupFn(func(st tevent.State) {
			s.writeCleanup(st)
			if x.w.closing == req {
				x.w.closing = nil
				req.DeferCallback() // after the writev's callback
				s.closeWrite(req)
			}
		})
		req.SetCleanupFn(func(tevent.State) {
			if x.w.closing == req {
				x.w.closing = nil // ended waiting: the writev goes on alone
			}
		})
		return req
	}
	s.closeWrite(req)
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// CloseWriteRecv returns nil once the writing side is shut down, or the
// error in an *OpError with Op "shutdown": ErrBusy, net.ErrClosed (the
// stream was closed, before or while it waited), a failure to send
// close_notify, or the errno of shutdown(2) (ENOTCONN once the connection
// is gone).
func CloseWriteRecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}

// closeWrite shuts the writing side of s down for req, nothing being in
// flight on it: at once on a plain stream; on a TLS stream after
// close_notify, which becomes the stream's one write while the socket
// does not take it all.
func (s *Stream) closeWrite(req *tevent.Req[struct{}]) {
	switch {
	case !req.IsInProgress():
		return // it ended while it waited
	case req.Context().Closed():
		return // the teardown ends it with ErrClosed: no shutdown then
	case s.closed:
		req.Error(s.opErr("shutdown", errClosed))
		return
	}
	t, ok := s.tr.(*tlsTransport)
	if !ok {
		s.shutdownWrite(req)
		return
	}
	if err := t.closeNotify(); err != nil {
		req.Error(s.opErr("shutdown", err))
		return
	}
	// The rest of close_notify waits in the transport: an empty write
	// flushes it (writeStep flushes the transport before it calls a write
	// done), waiting for the socket as a writev would.
	subreq := tevent.NewReq[int](s.reg.ev)
	s.wr.req = subreq
	s.wr.v.set(nil)
	s.wrWait = tevent.FDWrite
	subreq.SetCleanupFn(s.cleanupFn)
	subreq.SetCallback(func(subreq *tevent.Req[int]) { s.closeNotifyDone(subreq, req) })
	req.AddSubreq(subreq)
	s.writeStep()
}

// closeNotifyDone is the callback of the flush of close_notify.
func (s *Stream) closeNotifyDone(subreq *tevent.Req[int], req *tevent.Req[struct{}]) {
	if _, err := subreq.Recv(); err != nil {
		var oe *OpError
		if errors.As(err, &oe) {
			err = oe.Err // the write engine's "writev": this is a "shutdown"
		}
		req.Error(s.opErr("shutdown", err))
		return
	}
	s.shutdownWrite(req)
}

// shutdownWrite makes the shutdown(2) and ends req with its answer.
func (s *Stream) shutdownWrite(req *tevent.Req[struct{}]) {
	if s.closed {
		req.Error(s.opErr("shutdown", errClosed))
		return
	}
	if err := sys.Shutdown(s.reg.fd, unix.SHUT_WR); err != nil {
		req.Error(s.opErr("shutdown", sysErr("shutdown", err)))
		return
	}
	req.Done(struct{}{})
}
