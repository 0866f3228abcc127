package demoserver

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Writer keeps one writev in flight per stream: replies produced while one
// is being written are gathered and go out together in the next.
//
// A Writer belongs to one connection on the loop goroutine. Make it with
// [NewWriter]; it must not be copied once a write started.
type Writer struct {
	ev      *tevent.Context
	s       *tsocket.Stream
	out     []byte // gathered, not yet written
	flight  []byte // being written
	writing bool
	failed  error
	drained func(err error)
	iov     [1][]byte
}

// NewWriter returns a writer on s. drained is called on the loop when
// everything gathered has been written (err nil), or once with the error
// of a write that failed; it may write again.
func NewWriter(ev *tevent.Context, s *tsocket.Stream, drained func(err error)) Writer {
	return Writer{ev: ev, s: s, drained: drained}
}

// Write gathers a copy of p and starts a writev unless one is in flight.
func (w *Writer) Write(p []byte) {
	w.Flush(append(w.out, p...))
}

// Buffer returns the gathered bytes not yet written, for a caller that
// appends its replies in place and hands the result to Flush.
func (w *Writer) Buffer() []byte { return w.out }

// Flush makes out (what Buffer returned, replies appended) the gathered
// bytes and starts a writev unless one is in flight. After a failed write
// nothing more is written.
func (w *Writer) Flush(out []byte) {
	w.out = out
	if w.writing || w.failed != nil || len(w.out) == 0 {
		return
	}
	w.out, w.flight = w.flight[:0], w.out
	w.writing = true
	w.iov[0] = w.flight
	subreq := tsocket.WritevSend(w.ev, w.s, w.iov[:])
	subreq.SetCallback(w.writeDone)
}

func (w *Writer) writeDone(subreq *tevent.Req[int]) {
	_, err := tsocket.WritevRecv(subreq)
	w.writing = false
	w.iov[0] = nil
	if cap(w.flight) > idleBufCap {
		w.flight = nil
	}
	if err != nil {
		w.failed = err
		w.drained(err)
		return
	}
	if len(w.out) > 0 {
		w.Flush(w.out)
		return
	}
	if cap(w.out) > idleBufCap {
		w.out = nil
	}
	w.drained(nil)
}

// Pending is how many reply bytes are not yet written.
func (w *Writer) Pending() int { return len(w.out) + len(w.flight) }

// Err is the error of the write that failed, or nil.
func (w *Writer) Err() error { return w.failed }
