package demo

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// idleBufCap is the largest buffer a connection keeps while idle; a larger
// one, grown by a big request or reply, is dropped once drained, so an idle
// connection holds no large buffer.
const idleBufCap = 4 << 10

// reader accumulates stream input in one buffer. Servers fill it with
// ReadSomeFuncSend (readSome), one read per arrival. A connection with no
// unfinished command reads into its loop's shared buffer and holds no
// buffer of its own; what a read leaves unfinished is copied out (keep),
// and the rest of that command is read into the connection's own buffer.
// The reader also offers the ReadvPDU way (next), used by LineClient:
// read until complete says the buffer holds a whole unit, each vector
// sized by what the socket already holds (PendingBytes), at least one
// byte, so the engine never waits for bytes the peer has not sent.
type reader struct {
	in       []byte // the input not yet consumed; during a read callback it may be part of shared
	shared   []byte // the loop's read buffer, if any
	inShared bool   // in is part of shared
	grown    int    // bytes handed out in the last vector, filled by now
	max      int
	complete func(buf []byte) (bool, error)
	vec      [1][]byte
	getFn    func() []byte // r.get, bound once
}

// next is the NextVectorFunc: it returns nil once a unit is complete.
func (r *reader) next(s *tsocket.Stream) ([][]byte, error) {
	r.in = r.in[:len(r.in)+r.grown]
	r.grown = 0
	done, err := r.complete(r.in)
	if err != nil {
		return nil, err
	}
	if done {
		return nil, nil
	}
	want, err := s.PendingBytes()
	if err != nil {
		return nil, err
	}
	want = max(want, 1)
	room := r.max - len(r.in)
	if room <= 0 {
		return nil, errBufferFull
	}
	want = min(want, room)
	r.reserve(want)
	r.grown = want
	r.vec[0] = r.in[len(r.in) : len(r.in)+want]
	return r.vec[:], nil
}

// reserve makes room for want more bytes (len(r.in)+want <= r.max),
// doubling for amortised growth but never past r.max: this is what bounds
// a connection's memory.
func (r *reader) reserve(want int) {
	if cap(r.in)-len(r.in) >= want {
		return
	}
	grown := make([]byte, len(r.in), min(max(2*cap(r.in), len(r.in)+want, 512), r.max))
	copy(grown, r.in)
	r.in = grown
}

// readSome starts a read of what the socket holds: one read per arrival,
// into the shared buffer when nothing is pending, otherwise after the
// pending bytes in the connection's own buffer. A buffer at its cap gives
// errBufferFull. The callback takes the bytes with filled.
func (r *reader) readSome(ev *tevent.Context, s *tsocket.Stream) (*tevent.Req[[]byte], error) {
	if r.max-len(r.in) <= 0 {
		return nil, errBufferFull
	}
	if r.getFn == nil {
		r.getFn = r.get
	}
	return tsocket.ReadSomeFuncSend(ev, s, r.getFn), nil
}

// get is readSome's buffer function, called once the socket is readable.
func (r *reader) get() []byte {
	if len(r.in) == 0 && len(r.shared) > 0 {
		return r.shared[:min(len(r.shared), r.max)]
	}
	r.reserve(min(r.max-len(r.in), minRead))
	return r.in[len(r.in):cap(r.in)]
}

// sharedReadBuf is the size of a server's shared read buffer: one per
// server, so one per loop.
const sharedReadBuf = 16 << 10

// minRead is the least free space a read is given: small, so an idle
// connection's buffer stays small, and doubled as requests need.
const minRead = 512

// filled takes the bytes p that a readSome read: they are in the shared
// buffer, or after the pending bytes in the connection's own.
func (r *reader) filled(p []byte) {
	if len(p) == 0 {
		return
	}
	if len(r.in) == 0 && len(r.shared) > 0 && &p[0] == &r.shared[0] {
		r.in, r.inShared = p, true
		return
	}
	r.in = r.in[:len(r.in)+len(p)]
}

// keep ends a read callback: unconsumed bytes still in the shared buffer
// are copied into a buffer of the connection's own, since the next read of
// any connection on the loop overwrites them. A connection with nothing
// pending keeps no buffer.
func (r *reader) keep() {
	if !r.inShared {
		if len(r.in) == 0 && len(r.shared) > 0 {
			r.in = nil
		}
		return
	}
	r.inShared = false
	if len(r.in) == 0 {
		r.in = nil
		return
	}
	own := make([]byte, len(r.in), min(max(len(r.in)+minRead, 2*len(r.in)), max(r.max, len(r.in))))
	copy(own, r.in)
	r.in = own
}

// consume drops the first n bytes, and the buffer itself when it is empty
// and large.
func (r *reader) consume(n int) {
	rest := copy(r.in, r.in[n:])
	r.in = r.in[:rest]
	if rest == 0 && cap(r.in) > idleBufCap {
		r.in = nil
	}
}

// writer keeps one writev in flight per stream: replies produced while one
// is being written are gathered and go out together in the next.
type writer struct {
	ev      *tevent.Context
	s       *tsocket.Stream
	out     []byte // gathered, not yet written
	flight  []byte // being written
	writing bool
	failed  error
	drained func(err error) // called when everything written, or on error
	iov     [1][]byte
}

func (w *writer) write(p []byte) {
	w.out = append(w.out, p...)
	w.flush()
}

func (w *writer) flush() {
	if w.writing || w.failed != nil || len(w.out) == 0 {
		return
	}
	w.out, w.flight = w.flight[:0], w.out
	w.writing = true
	w.iov[0] = w.flight
	subreq := tsocket.WritevSend(w.ev, w.s, w.iov[:])
	subreq.SetCallback(w.writeDone)
}

func (w *writer) writeDone(subreq *tevent.Req[int]) {
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
		w.flush()
		return
	}
	if cap(w.out) > idleBufCap {
		w.out = nil
	}
	w.drained(nil)
}

// pending is how many reply bytes are not yet written.
func (w *writer) pending() int { return len(w.out) + len(w.flight) }

// acceptor is a server's accept loop: one AcceptSend in flight, each
// stream handed to serve, accept errors (EMFILE and the like, after
// tsocket's own back-off) logged and the loop carried on.
type acceptor struct {
	ev     *tevent.Context
	l      *tsocket.Listener
	req    *tevent.Req[*tsocket.Stream]
	closed bool
	serve  func(*tsocket.Stream)
	logf   func(format string, args ...any)
	name   string
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
