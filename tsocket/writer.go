package tsocket

import (
	"fmt"
	"net"
	"slices"
	"syscall"

	"github.com/gotevent/gotevent/tevent"
)

// ErrWriterFull is what [Writer.Write] returns when the buffers would take
// what the Writer holds past its hard limit. Nothing was queued and the
// Writer is unchanged; a server usually takes it as Redis takes its hard
// client-output-buffer-limit and closes the client. errors.Is(err,
// syscall.ENOBUFS) also holds.
//
// It lives here rather than in errors.go only until that file is next
// edited; its value and meaning do not change when it moves.
var ErrWriterFull = fmt.Errorf("tsocket: writer over its hard limit: %w", syscall.ENOBUFS)

// errWriterClosed is what Write and a second WriterCloseSend return once
// WriterCloseSend has been called: the Writer takes no more data.
var errWriterClosed = fmt.Errorf("tsocket: writer closed: %w", net.ErrClosed)

// WriterLimits bound what a [Writer] holds, in bytes queued or in flight
// and not yet written. 0 means no limit; a negative value is a
// programming error and makes NewWriter panic.
type WriterLimits struct {
	// Soft is the level past which [Writer.OverSoft] reports true: the
	// signal to stop reading the peer's requests until a
	// [WriterDrainSend] says the peer has caught up. It never refuses
	// data. A Soft at or above Hard is never reached.
	Soft int
	// Hard is the most the Writer holds: a Write that would take
	// Buffered past Hard queues nothing and returns [ErrWriterFull].
	Hard int
}

// Writer is a stream's outbox, the part of a server that Redis calls a
// client's output buffer and Samba builds with tstream_writev_queue: any
// part of the program queues replies with [Writer.Write] and goes on,
// and the Writer keeps one writev in flight on the stream, sending in it
// everything queued since the last one started. [WriterLimits] bound what
// a slow reader can make it hold.
//
// Write never writes inside the call. The first Write on an idle Writer
// asks the loop for an immediate, which runs once the handlers of the
// current iteration have returned; it sends everything queued by then in
// one writev, so the replies to a pipelined batch of requests leave in one
// sendmsg (as Redis writes its clients' replies just before it sleeps).
// Writes made while that writev is in flight wait in a second vector,
// which goes out in one writev as soon as the first finishes. The Writer
// swaps the two vectors and keeps them, so in steady state it allocates
// nothing per Write, and only the writev's request per flush. tsocket
// reports a writev only once it is whole, so [Writer.Buffered] drops when
// each writev finishes, not byte by byte.
//
// The buffers given to Write are not copied: they belong to the Writer
// until written, and the caller leaves them alone until then, which it
// learns from a [WriterDrainSend] or from Buffered falling to 0. A Writer
// forgets its buffers as soon as the writev carrying them finishes, so they
// can be collected.
//
// When a write fails (the peer reset the connection, the stream was closed
// underneath), the Writer keeps that error: [Writer.Err] returns it, every
// later Write returns it, every drain fails with it, and what was still
// queued is dropped (Buffered is 0 and the Writer holds no buffer any
// more). The Writer does not close the stream then; its owner does, or
// [WriterCloseSend] does.
//
// A Writer belongs to the goroutine running its context's loop, as its
// stream does: every method and request is used from there, from any
// callback, and none of them blocks or calls back inside the call. It
// starts no goroutine and, idle, holds nothing in the loop; busy, it holds
// its writev in flight (the stream's fd event) or the immediate of the
// flush it asked for. Once a stream has a Writer, write to it only through
// the Writer: a writev of the caller's own would fail the Writer's with
// ErrBusy.
type Writer struct {
	ev  *tevent.Context // immutable: the loop of s
	s   *Stream         // immutable; its owner's, closed here only by WriterCloseSend
	lim WriterLimits    // immutable

	// flight is the vector of the writev in flight (req), pend what was
	// queued since it started; each byte count goes with its vector.
	// They swap when pend goes out, and each is cleared once written, so
	// neither keeps a written buffer alive.
	flight, pend           [][]byte
	flightBytes, pendBytes int
	req                    *tevent.Req[int] // the writev in flight, or nil

	flushQueued bool  // a flush immediate is queued: Write asks for no other
	closing     bool  // WriterCloseSend was called: Write refuses data
	err         error // the first write error; sticky, nil until then

	closeReq *tevent.Req[struct{}] // the WriterCloseSend in progress, or nil
	drains   []*writerDrain        // the drains waiting, in the order started
	ready    []*writerDrain        // wakeDrains' scratch list, borrowed while used

	flushFn      func()                 // w.flush, bound once
	writevDoneFn func(*tevent.Req[int]) // w.writevDone, bound once
}

// NewWriter returns an empty Writer for s on ev, the context whose loop
// runs s. It panics if a limit is negative.
func NewWriter(ev *tevent.Context, s *Stream, lim WriterLimits) *Writer {
	if lim.Soft < 0 || lim.Hard < 0 {
		panic(fmt.Sprintf("tsocket: NewWriter with negative limits %+v", lim))
	}
	w := &Writer{ev: ev, s: s, lim: lim}
	w.flushFn, w.writevDoneFn = w.flush, w.writevDone
	return w
}

// Write queues bufs to be written in order, without copying them; the
// buffers belong to the Writer until they are written. It returns nil once
// they are queued: a failure to write them shows later, in Err, in the
// next Write and in drains. It returns, queueing nothing:
//
//   - the write error, once a write has failed (see [Writer.Err]);
//   - an error wrapping net.ErrClosed once [WriterCloseSend] was called;
//   - [ErrWriterFull] when Buffered()+len of all bufs would exceed the
//     hard limit. A single Write larger than Hard is refused even on an
//     empty Writer, so Buffered never exceeds Hard.
//
// Empty buffers are skipped. Write may be called from any callback on the
// loop and never calls back.
func (w *Writer) Write(bufs ...[]byte) error {
	switch {
	case w.err != nil:
		return w.err
	case w.closing:
		return errWriterClosed
	}
	n := total(bufs)
	if w.lim.Hard > 0 && w.Buffered()+n > w.lim.Hard {
		return ErrWriterFull
	}
	if n == 0 {
		return nil
	}
	for _, b := range bufs {
		if len(b) > 0 {
			w.pend = append(w.pend, b)
		}
	}
	w.pendBytes += n
	if w.req == nil && !w.flushQueued {
		w.flushQueued = true
		w.ev.ScheduleImmediate(w.flushFn)
	}
	return nil
}

// Buffered returns the bytes queued or in flight and not yet written. It
// is 0 once everything is written, and after a write failed.
func (w *Writer) Buffered() int { return w.flightBytes + w.pendBytes }

// OverSoft reports whether Buffered exceeds the soft limit (never, without
// one). A server stops reading the peer while it is true.
func (w *Writer) OverSoft() bool { return w.lim.Soft > 0 && w.Buffered() > w.lim.Soft }

// Err returns the error of the write that failed, or nil. The error wraps
// the errno, so errors.Is(err, syscall.ECONNRESET), syscall.EPIPE or
// net.ErrClosed (the stream was closed underneath) tell what happened.
// ErrWriterFull is not a write error and never shows here.
func (w *Writer) Err() error { return w.err }

// flush is the immediate a Write on an idle Writer asked for.
func (w *Writer) flush() {
	w.flushQueued = false
	if w.req == nil {
		w.push()
		w.settle()
	}
}

// push sends what is pending in one writev, and again while writes finish
// inside WritevSend, until one waits or nothing is left.
func (w *Writer) push() {
	for w.req == nil && w.err == nil && len(w.pend) > 0 {
		w.flight, w.pend = w.pend, w.flight
		w.flightBytes, w.pendBytes = w.pendBytes, 0
		req := writevStart(w.ev, w.s, w.flight)
		if req.IsInProgress() {
			w.req = req
			req.SetCallback(w.writevDoneFn)
			return
		}
		// Finished inside the call: take the result now. Nothing was
		// posted for it, so the loop makes no turn for a callback that
		// would have nothing to do.
		w.written(WritevRecv(req))
	}
}

// writevDone is the callback of the writev in flight.
func (w *Writer) writevDone(req *tevent.Req[int]) {
	n, err := WritevRecv(req)
	if req != w.req {
		return // dropped by fail while its callback was pending
	}
	w.req = nil
	w.written(n, err)
	w.push()
	w.settle()
}

// written accounts for the writev of flight that finished.
func (w *Writer) written(_ int, err error) {
	if err != nil {
		w.fail(err)
		return
	}
	w.flight, w.flightBytes = emptied(w.flight), 0
}

// emptied returns v cleared for reuse, so that it references no written
// buffer; a vector grown past maxIovecs by a burst is dropped instead, so
// that an idle connection does not keep its backing array.
func emptied(v [][]byte) [][]byte {
	if cap(v) > maxIovecs {
		return nil
	}
	clear(v)
	return v[:0]
}

// fail makes err the Writer's error and drops everything queued. The
// stream no longer references flight: its writev has ended, or the
// stream was closed, which drops it.
func (w *Writer) fail(err error) {
	if w.err == nil {
		w.err = err
	}
	w.req = nil
	w.flight, w.pend = emptied(w.flight), emptied(w.pend)
	w.flightBytes, w.pendBytes = 0, 0
}

// settle finishes the drains that Buffered has fallen to (all of them if
// a write failed), then the close once everything is written.
func (w *Writer) settle() {
	if len(w.drains) > 0 {
		w.wakeDrains(false)
	}
	if w.closeReq != nil && (w.err != nil || w.req == nil && w.Buffered() == 0) {
		w.finishClose()
	}
}

// wakeDrains finishes the drains that are due, in the order they were
// started, their callbacks deferred to a later turn if deferCB is set.
// They are taken off the list first, since their callbacks may start or
// abandon other drains; the scratch list is borrowed, so that a loop
// nested in a callback that comes back here makes its own.
func (w *Writer) wakeDrains(deferCB bool) {
	ready := w.ready[:0]
	w.ready = nil
	kept := w.drains[:0]
	for _, d := range w.drains {
		if w.err != nil || w.Buffered() <= d.below {
			ready = append(ready, d)
		} else {
			kept = append(kept, d)
		}
	}
	clear(w.drains[len(kept):])
	w.drains = kept
	for i, d := range ready {
		ready[i] = nil
		if deferCB {
			d.req.DeferCallback()
		}
		if !d.req.Error(w.err) {
			d.req.Done(struct{}{})
		}
	}
	w.ready = ready[:0]
}

// writerDrain is one WriterDrainSend waiting for Buffered to fall.
type writerDrain struct {
	w     *Writer
	req   *tevent.Req[struct{}]
	below int
}

// cleanup takes a drain that ended without the Writer (it timed out, was
// cancelled, abandoned, or ended by its context's teardown) off the list.
func (d *writerDrain) cleanup(tevent.State) {
	if i := slices.Index(d.w.drains, d); i >= 0 {
		d.w.drains = slices.Delete(d.w.drains, i, i+1) // zeroes the slot left at the end
	}
}

// stopWaiting is a drain's cancel function: waiting holds nothing, so it
// can always stop.
func stopWaiting() bool { return true }

// WriterDrainSend waits until w holds at most below bytes (Buffered() <=
// below; a negative below counts as 0), or fails with the write error: the
// way a server that stopped reading a client because [Writer.OverSoft]
// learns when to read again, and the way a caller learns that its buffers
// are written (below 0). It finishes through Post, never inside the call:
// at once if Buffered is already that low or a write has already failed.
// Any number of drains may wait on one Writer, each with its own below;
// they finish in the order started. A drain holds no event of its own: it
// may time out (SetEndTime), be cancelled (Cancel: it stops waiting) or be
// abandoned, which takes it off the Writer. ev must be w's context
// ([ErrWrongContext] otherwise).
func WriterDrainSend(ev *tevent.Context, w *Writer, below int) *tevent.Req[struct{}] {
	req := tevent.NewReq[struct{}](ev)
	below = max(below, 0)
	switch {
	case ev != w.ev:
		req.Error(ErrWrongContext)
	case w.err != nil:
		req.Error(w.err)
	case w.Buffered() <= below:
		req.Done(struct{}{})
	default:
		d := &writerDrain{w: w, req: req, below: below}
		w.drains = append(w.drains, d)
		req.SetCleanupFn(d.cleanup)
		req.SetCancelFn(stopWaiting)
		return req
	}
	return req.Post()
}

// WriterDrainRecv returns the result of WriterDrainSend: nil once Buffered
// had fallen to below, the Writer's write error ([Writer.Err]),
// ErrWrongContext, or tevent.ErrTimedOut or tevent.ErrCancelled.
func WriterDrainRecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}

// WriterCloseSend writes everything w holds, then closes its stream: the
// end of a connection that must deliver its last replies, such as a
// client that shut its side down after its last request (the stream reads
// EOF with replies still queued, and every one of them still reaches the
// client). From the call on, Write returns an error wrapping
// net.ErrClosed; a drain still finishes as the data goes out.
//
// The stream is closed in every outcome, so its descriptor is released:
// after the last byte is written, when a write fails (the request fails
// with that error), and when the request ends early, by timing out
// (SetEndTime bounds how long a close may linger on a peer that does not
// read), by Cancel, by Abandon or by its context's teardown: then what was
// still queued is dropped. It finishes through Post when there is nothing
// to write. A second WriterCloseSend fails with an error wrapping
// net.ErrClosed, and so does one on a stream already closed with nothing
// queued. ev must be w's context ([ErrWrongContext] otherwise).
//
// Closing a TCP socket whose input has not all been read makes the kernel
// reset the connection, and a reset can destroy replies the peer has not
// read yet. Read the peer to EOF first, as the half-closed client's case
// does, or shut down reading with care.
func WriterCloseSend(ev *tevent.Context, w *Writer) *tevent.Req[struct{}] {
	req := tevent.NewReq[struct{}](ev)
	switch {
	case ev != w.ev:
		req.Error(ErrWrongContext)
		return req.Post()
	case w.closing:
		req.Error(errWriterClosed)
		return req.Post()
	}
	w.closing = true
	w.closeReq = req
	if w.err != nil || w.req == nil && w.Buffered() == 0 {
		if w.err == nil && w.s.closed {
			w.closeReq = nil
			req.Error(errWriterClosed)
			return req.Post()
		}
		w.finishClose()
		return req.Post()
	}
	req.SetCleanupFn(w.closeEnded)
	req.SetCancelFn(stopWaiting)
	return req
}

// WriterCloseRecv returns the result of WriterCloseSend: nil once
// everything was written and the stream closed; the write error; the error
// of close(2); an error wrapping net.ErrClosed for a second close or a
// stream already closed; ErrWrongContext; or tevent.ErrTimedOut or
// tevent.ErrCancelled (the stream was closed then, with data unsent).
func WriterCloseRecv(req *tevent.Req[struct{}]) error {
	_, err := req.Recv()
	return err
}

// finishClose closes the stream and ends the close request with the write
// error, or else the error of close.
func (w *Writer) finishClose() {
	req := w.closeReq
	w.closeReq = nil
	err := w.s.Close()
	if w.err != nil {
		err = w.err
	}
	if !req.Error(err) {
		req.Done(struct{}{})
	}
}

// closeEnded is the close request's cleanup: a close that ended without
// the Writer (timed out, cancelled, abandoned, or ended by the context's
// teardown) closes the stream now and drops what is queued, so the
// descriptor is never left behind.
func (w *Writer) closeEnded(tevent.State) {
	if w.closeReq == nil {
		return // finished by finishClose
	}
	w.closeReq = nil
	err := errWriterClosed
	if cerr := w.s.Close(); cerr != nil {
		err = cerr // the request has ended: the Writer keeps it for Err
	}
	w.fail(err)
	// Tell the drains on a later turn, not inside the Cancel or Abandon
	// that got here; a teardown ends them itself, without calling back.
	if len(w.drains) > 0 && !w.ev.Closed() {
		w.wakeDrains(true)
	}
}
