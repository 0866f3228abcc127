package tsocket

import (
	"crypto/tls"
	"errors"
	"sync/atomic"

	"github.com/gotevent/gotevent/internal/tlsio"
	"github.com/gotevent/gotevent/tevent"
)

// TLSServerSend starts a TLS server handshake on s with cfg
// (tstream_tls_accept_send), for a port that speaks TLS from the first
// byte or for STARTTLS on a stream that has been talking in the clear. s
// must have no request in flight. The result is a new *Stream that owns s:
// every stream request works on it unchanged (readv, writev, ReadSome,
// ReadSomeFunc, ReadvPDU, the queued variants, Reader, Writer, wait events,
// NetConn), Disconnect sends close_notify, and closing it closes s's
// descriptor. s itself must not be used again, whatever the outcome, except
// to Close it after a failure.
//
// crypto/tls runs a handshake as blocking code, so it runs on a goroutine of
// a pool shared by all contexts (256 goroutines at most, or 16 per core),
// which reads and writes a duplicate of s's descriptor and waits for it in
// Go's runtime poller, as a net.Conn would; s's loop never blocks, and
// hears from the handshake only when it is over. Handshakes past the bound
// wait their turn. SetEndTime on the request bounds the
// handshake; a timed-out, cancelled or abandoned handshake is stopped at its
// next read. A failed handshake is an *OpError with Op "tls" around the
// crypto/tls error, so errors.As with *tls.AlertError,
// *tls.CertificateVerificationError or *tls.RecordHeaderError holds.
func TLSServerSend(ev *tevent.Context, s *Stream, cfg *tls.Config) *tevent.Req[*Stream] {
	return tlsHandshakeSend(ev, s, cfg, true)
}

// TLSServerRecv returns the TLS stream of TLSServerSend, or its error.
func TLSServerRecv(req *tevent.Req[*Stream]) (*Stream, error) { return req.Recv() }

// TLSClientSend starts a TLS client handshake on s with cfg
// (tstream_tls_connect_send); everything TLSServerSend says holds. cfg
// needs ServerName or InsecureSkipVerify, as for tls.Client.
func TLSClientSend(ev *tevent.Context, s *Stream, cfg *tls.Config) *tevent.Req[*Stream] {
	return tlsHandshakeSend(ev, s, cfg, false)
}

// TLSClientRecv returns the TLS stream of TLSClientSend, or its error.
func TLSClientRecv(req *tevent.Req[*Stream]) (*Stream, error) { return req.Recv() }

// tlsPoller makes handshakes wait in Go's poller (Shim.UsePoller); the
// tests turn it off to run the crossings a handshake falls back on.
var tlsPoller = true

// tlsHandshakeState is one handshake. The loop side (the methods not
// marked otherwise) runs on ev's loop; run runs on a pool goroutine.
type tlsHandshakeState struct {
	req   *tevent.Req[*Stream]
	ev    *tevent.Context
	plain *Stream
	sh    *tlsio.Shim
	conn  *tls.Conn

	poller           bool // wait in Go's poller (tlsPoller when it started)
	reading, writing bool // a read or write of plain in flight
	finished         bool // run returned; err is its result
	err              error
	rbuf             []byte
	// started is taken by run as it starts, or by a cleanup that stops a
	// handshake still queued for a worker: then run never starts it.
	started atomic.Bool
	exited  chan struct{} // closed when run has returned, or never will run
	// release ends the loop's wait for the handshake goroutine (Expect):
	// once the handshake's result is in, or the request has ended.
	release func()
}

func tlsHandshakeSend(ev *tevent.Context, s *Stream, cfg *tls.Config, server bool) *tevent.Req[*Stream] {
	req := tevent.NewReq[*Stream](ev)
	var err error
	switch {
	case cfg == nil:
		err = errors.New("tsocket: TLS handshake without a tls.Config")
	case s == nil:
		err = errors.New("tsocket: TLS handshake on a nil stream")
	case s.closed:
		err = errClosed
	case s.busy():
		err = ErrBusy
	default:
		err = s.reg.use(ev, false)
	}
	if err != nil {
		req.Error(tlsError(s, err))
		return req.Post()
	}
	st := &tlsHandshakeState{req: req, ev: ev, plain: s, poller: tlsPoller, exited: make(chan struct{})}
	st.sh = tlsio.NewShim(s.reg.fd, s.LocalAddress(), s.RemoteAddress(), st.kick)
	if server {
		st.conn = tls.Server(st.sh, cfg)
	} else {
		st.conn = tls.Client(st.sh, cfg)
	}
	req.SetCleanupFn(st.cleanup)
	st.release = ev.Expect()
	s.extra().handshake = st.sh.CloseFD // Close stops the handshake's calls first
	tlsio.Go(st.run)
	return req
}

// run is the pool goroutine's part: the handshake itself.
func (st *tlsHandshakeState) run() {
	if !st.started.CompareAndSwap(false, true) {
		return // stopped while queued
	}
	// The handshake waits for the socket in Go's poller, on a duplicate
	// of the descriptor made now, one per running handshake, rather than
	// crossing to the loop for each flight. A duplicate that cannot be
	// made (no descriptor left, or the stream closed already) costs only
	// that: the crossings serve instead, or the first read fails.
	if st.poller {
		_ = st.sh.UsePoller()
	}
	err := st.conn.Handshake()
	st.sh.ReleasePoller()
	// A Post refused (the context closed) leaves the request to the
	// teardown, which already ended it.
	_ = st.ev.Post(func() { st.handshakeDone(err) })
	close(st.exited)
}

// kick asks the loop to look at the shim; any goroutine.
func (st *tlsHandshakeState) kick() {
	// Refused only once the context is closed, whose teardown ends the
	// request and aborts the handshake.
	_ = st.ev.Post(st.step)
}

func (st *tlsHandshakeState) handshakeDone(err error) {
	st.release()
	// The goroutine makes no more calls on the descriptor, whatever the
	// outcome: a failed handshake leaves the plain stream free to close,
	// detach or try again.
	if st.plain.x != nil {
		st.plain.x.handshake = nil
	}
	st.finished, st.err = true, err
	st.step()
}

// step does the I/O the handshake asked for and finishes the request once
// the handshake is over and its last flight is written.
func (st *tlsHandshakeState) step() {
	if !st.req.IsInProgress() {
		return
	}
	if !st.reading && st.sh.WantRead() {
		if st.rbuf == nil {
			st.rbuf = make([]byte, 16<<10) // a TLS record and its header
		}
		st.reading = true
		subreq := ReadSomeSend(st.ev, st.plain, st.rbuf)
		st.req.AddSubreq(subreq)
		subreq.SetCallback(st.readDone)
	}
	if !st.writing {
		if out := st.sh.TakeOut(); len(out) > 0 {
			st.writing = true
			subreq := WritevSend(st.ev, st.plain, [][]byte{out})
			st.req.AddSubreq(subreq)
			subreq.SetCallback(st.writeDone)
		}
	}
	if !st.finished || st.writing {
		return
	}
	if st.err != nil {
		st.req.Error(tlsError(st.plain, st.err))
		return
	}
	ts, err := newTLSStream(st.plain, st.conn, st.sh)
	if st.req.Error(tlsError(st.plain, err)) {
		return
	}
	st.req.Done(ts)
}

func (st *tlsHandshakeState) readDone(subreq *tevent.Req[int]) {
	st.reading = false
	n, err := ReadSomeRecv(subreq)
	st.sh.Deliver(st.rbuf[:n], err)
	st.step()
}

func (st *tlsHandshakeState) writeDone(subreq *tevent.Req[int]) {
	st.writing = false
	st.sh.OutWritten()
	if _, err := WritevRecv(subreq); err != nil {
		// The handshake learns of it at its next write, and from its next
		// read, which would otherwise wait for an answer that cannot come.
		st.sh.SetWriteErr(err)
		st.sh.Deliver(nil, err)
	}
	st.step()
}

// cleanup stops a handshake that ended without finishing (timed out,
// cancelled, abandoned, or its context torn down) at its next read, and
// when the context is being torn down waits for its goroutine, so that
// none outlives Close.
func (st *tlsHandshakeState) cleanup(state tevent.State) {
	st.release()
	if state == tevent.StateDone || state == tevent.StateReceived && !st.req.Abandoned() {
		return
	}
	if st.started.CompareAndSwap(false, true) {
		close(st.exited) // still queued: it will never run
		return
	}
	select {
	case <-st.exited:
		return
	default:
	}
	st.sh.Abort(tlsio.ErrAborted)
	if st.ev.Closed() {
		<-st.exited
	}
}

// tlsError puts err in an *OpError with Op "tls", unless it is one.
func tlsError(s *Stream, err error) error {
	if err == nil {
		return nil
	}
	var op *OpError
	if errors.As(err, &op) && op.Op == "tls" {
		return err
	}
	if s == nil {
		return &OpError{Op: "tls", Net: "tcp", Err: err}
	}
	return s.opErr("tls", err)
}
