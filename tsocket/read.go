package tsocket

import (
	"github.com/gotevent/gotevent/internal/sys"
	"io"

	"github.com/gotevent/gotevent/tevent"
)

// The read engine. Every read request on a Stream (ReadvSend,
// ReadSomeSend, ReadSomeFuncSend and ReadvPDUSend) runs on one engine,
// readStep, which fills the vector s.rd.v from the socket and waits for
// readiness when the socket has nothing. What differs from one kind of
// read to another is a reader: where the vector comes from, when the read
// is over, and what its request returns.

// reader is the read in flight on a Stream, one implementation per kind of
// read. Each kind's state lives in the Stream (readKinds) and s.rd.r
// points at it, so that starting a read allocates nothing beyond its
// request. Its methods run on the loop goroutine, from the engine.
type reader interface {
	// op names the request in errors: "readv" or "read".
	op() string
	// vector is called when s.rd.v has nothing left to fill: before the
	// first read of a kind that supplies its vector late, and each time
	// the vector has been filled. It sets a vector with at least one byte
	// to fill and reports true, or ends the request and reports false.
	vector(s *Stream) bool
	// got is told that the last read put n > 0 bytes into s.rd.v, which
	// has already moved past them. It reports whether the read goes on;
	// if not, it has ended the request.
	got(s *Stream, n int) bool
	// wait is told that the read is about to wait for the socket.
	wait(s *Stream)
	// fail ends the request with err, its callback deferred to a later
	// iteration if deferCB is set.
	fail(s *Stream, err error, deferCB bool)
	// inProgress reports whether the request has not finished.
	inProgress() bool
}

// readState is the read in flight.
type readState struct {
	r     reader    // the read in flight, nil if none; points into kinds
	v     ioVec     // what it fills
	one   [1][]byte // the vector of ReadSomeSend and ReadSomeFuncSend
	kinds readKinds // only r's is in use
}

// readKinds holds the state of each kind of read. One is in use at a
// time; keeping each apart costs 48 bytes a Stream, less than one
// allocation per read, and keeps each kind's fields typed. ReadvSend and
// ReadSomeSend, whose state is the same, share theirs (see some).
type readKinds struct {
	readv readvFill // or a readSome
	fn    readSomeFunc
	pdu   readPDU
}

// some is the state of a ReadSomeSend: the same memory as a ReadvSend's.
func (k *readKinds) some() *readSome { return (*readSome)(&k.readv) }

// startRead checks that a read may start.
func (s *Stream) startRead(ev *tevent.Context, op string, empty bool) error {
	switch {
	case s.closed:
		return s.opErr(op, errClosed)
	case empty:
		return s.opErr(op, ErrEmptyVector)
	case s.reading():
		return s.opErr(op, ErrBusy)
	}
	if err := s.reg.use(ev, s.hasWaits() || s.wr.req != nil); err != nil {
		return s.opErr(op, err)
	}
	return nil
}

// beginRead makes r, whose request startRead has allowed, the read in
// flight.
func (s *Stream) beginRead(r reader) {
	s.rd.r = r
	s.rdBytes = false
	s.rdWait = tevent.FDRead // until the transport says otherwise
}

// reading reports whether a read is in flight.
func (s *Stream) reading() bool { return s.rd.r != nil }

// forgetRead forgets the read in flight, and lets go of its request and
// of the caller's buffers and functions.
func (s *Stream) forgetRead() {
	if x := s.x; x != nil && s.rd.r == &x.readv {
		x.readv = readvSomeFunc{}
	}
	s.rd = readState{}
}

// readStepOrWait reads at once unless the loop is still watching the
// socket for reading (a read just finished): then the wait says whether
// data is there without a read that can only fail with EAGAIN.
func (s *Stream) readStepOrWait() {
	if s.reg.waiting(s.rdWait) && !s.rd.v.done() && !s.tr.buffered() {
		if err := s.reg.set(s.wants()); err != nil {
			s.failRead(err)
		}
		return
	}
	s.readStep()
}

// readChain is how many reads one readiness report of a stream may make
// when each fills its buffer and its callback starts the next.
const readChain = 8

// readStep reads as far as the socket allows. It reports whether the read
// finished with a read that filled everything it asked for, so that more
// data may be waiting.
func (s *Stream) readStep() bool {
	full := false // the last read filled what it asked for
	for {
		r := s.rd.r
		if s.rd.v.done() && !r.vector(s) {
			return s.chainAfterFill(full)
		}
		n, want, err := s.readOnce()
		if s.fill&fillNext != 0 {
			s.fill = 0
			if sys.WouldBlock(err) {
				s.fill = 1
			}
		}
		switch {
		case sys.WouldBlock(err):
			if dryRead != nil {
				dryRead(s)
			}
			s.waitRead()
			return false
		case err != nil:
			s.failRead(err)
			return false
		case n == 0 && s.rdBytes:
			s.failRead(io.ErrUnexpectedEOF)
			return false
		case n == 0:
			s.failRead(io.EOF)
			return false
		}
		s.rdBytes = true
		full = n == want
		s.rd.v.advance(n)
		if !r.got(s, n) {
			return full
		}
		if n < want {
			// A short read drained the socket: wait rather than make a
			// call that can only say EAGAIN.
			s.waitRead()
			return false
		}
	}
}

// dryRead, if set, hears of every read that found the socket empty: for
// tests of the rule that a stream does not make reads that can only say
// EAGAIN.
var dryRead func(*Stream)

// fillState is what a stream remembers of the read made straight after a
// request ended by filling its vector exactly: fillNext while that read
// is the next one; below it 0 if the last such read found input, else 1
// plus the exact fills not chained to since. One byte, so that the Stream
// keeps its size.
type fillState uint8

const fillNext fillState = 0x80

// fillProbe is how often a stream whose last read after an exact fill
// found the socket empty chains after one anyway, to learn whether its
// peer has started to send ahead.
const fillProbe = 8

// chainAfterFill reports whether the read that a request's callback
// starts next should be made in the same readiness report, when the
// request ended by filling its vector, exactly what it asked for (full).
// Whether more input is waiting then depends on the peer: a pipelining
// client has sent it, a client waiting for its reply (a large SET, one
// PDU per round trip) has not, and the read would say only EAGAIN. The
// stream remembers what the last such read found and chains while it
// found input; after it found none, only every fillProbe-th time, so a
// stream that turns to pipelining is noticed. A level-triggered wait
// reports input the stream did not chain to, so nothing is missed either
// way; a stream only trades a read for a wait.
func (s *Stream) chainAfterFill(full bool) bool {
	if !full {
		return false
	}
	if d := s.fill &^ fillNext; d != 0 && d < fillProbe {
		s.fill = d + 1
		return false
	}
	s.fill |= fillNext
	return true
}

// endChain ends a chain of reads: what chainAfterFill said is only about
// the read that follows it at once.
func (s *Stream) endChain() { s.fill &^= fillNext }

// readOnce makes one read into the rest of the vector: read when one
// buffer is left (cheaper in the kernel than a readv of one, and no iovec
// array to build), readv otherwise. It returns the bytes read, the bytes
// asked for and the transport's error.
func (s *Stream) readOnce() (n, want int, err error) {
	v := &s.rd.v
	if v.last() {
		b := v.cur()
		n, err = s.tr.read(b)
		return n, len(b), err
	}
	return s.tr.readv(v.iov[v.idx:], v.off)
}

// waitRead makes the read in flight wait for the socket.
func (s *Stream) waitRead() {
	s.rd.r.wait(s)
	s.rdWait = s.tr.readWait()
	if err := s.reg.set(s.wants()); err != nil {
		s.failRead(err)
	}
}

// failRead ends the read in flight with err, in an *OpError naming the
// read (io.EOF and io.ErrUnexpectedEOF stay bare).
func (s *Stream) failRead(err error) {
	r := s.rd.r
	r.fail(s, s.opErr(r.op(), err), false)
}

// endRead ends req, the read in flight, with v or err. The stream forgets
// the read first, so that the callback may start the next one at once.
func endRead[T any](s *Stream, req *tevent.Req[T], v T, err error, deferCB bool) {
	op := s.rd.r.op()
	s.forgetRead()
	finish(s, op, req, v, err, deferCB)
}

// readSoon makes the read in flight from an immediate on the next
// iteration. It is for input a transport holds above the descriptor
// (TLS), which no readiness report announces; the read still runs straight
// from the loop, so ReadSomeFuncSend's rule that its callback follows the
// read at once holds.
func (s *Stream) readSoon() {
	x := s.extra()
	if x.readSoonPending {
		return
	}
	if x.readSoonFn == nil {
		x.readSoonFn = s.readFromImmediate
	}
	x.readSoonPending = true
	s.reg.ev.ScheduleImmediate(x.readSoonFn)
}

func (s *Stream) readFromImmediate() {
	s.x.readSoonPending = false
	if s.closed || !s.reading() {
		return
	}
	for range readChain {
		if !s.readStep() || !s.reading() || s.closed {
			break
		}
	}
	s.endChain()
	if s.reading() && !s.closed && s.tr.buffered() {
		s.readSoon()
	}
}
