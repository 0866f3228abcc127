package demoserver

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// idleBufCap is the largest buffer a connection keeps while idle; a larger
// one, grown by a big request or reply, is dropped once drained, so an idle
// connection holds no large buffer.
const idleBufCap = 4 << 10

// minRead is the least free space a read is given: small, so an idle
// connection's buffer stays small, and doubled as requests need.
const minRead = 512

// Reader accumulates stream input in one buffer. Servers fill it with
// ReadSomeFuncSend ([Reader.Read]), one read per arrival. A connection
// with no unfinished command reads into its loop's shared buffer and holds
// no buffer of its own; what a read leaves unfinished is copied out once
// the read's callback returns, and the rest of that command is read into
// the connection's own buffer.
//
// A Reader belongs to one connection on the loop goroutine. Make it with
// [NewReader]; it must not be copied once a read started.
type Reader struct {
	in       []byte // the input not yet consumed; during a read callback it may be part of shared
	shared   []byte // the loop's read buffer, if any
	inShared bool   // in is part of shared
	max      int
	getFn    func() []byte   // r.get, bound once
	done     func(err error) // Read's callback
}

// NewReader returns a reader for Read that holds at most limit bytes and
// reads into shared (the loop's buffer, one per server) while nothing is
// pending.
func NewReader(limit int, shared []byte) Reader {
	return Reader{max: limit, shared: shared}
}

// Buffered returns the input not yet consumed. It aliases the reader's
// buffer (or, inside Read's callback, the shared one) until the next
// Consume or read.
func (r *Reader) Buffered() []byte { return r.in }

// reserve makes room for want more bytes (len(r.in)+want <= r.max),
// doubling for amortised growth but never past r.max: this is what bounds
// a connection's memory.
func (r *Reader) reserve(want int) {
	if cap(r.in)-len(r.in) >= want {
		return
	}
	grown := make([]byte, len(r.in), min(max(2*cap(r.in), len(r.in)+want, 512), r.max))
	copy(grown, r.in)
	r.in = grown
}

// Read starts a read of what s holds: one read per arrival, into the
// shared buffer when nothing is pending, otherwise after the pending bytes
// in the connection's own buffer. When it finishes, done runs on the loop
// with the bytes read added to Buffered and the read's error; done may
// start the next Read. Once done returns, unconsumed bytes still in the
// shared buffer are copied into one of the connection's own, since the next
// read of any connection on the loop overwrites them. A buffer at its cap
// gives ErrBufferFull and starts nothing.
func (r *Reader) Read(ev *tevent.Context, s *tsocket.Stream, done func(err error)) error {
	if r.max-len(r.in) <= 0 {
		return ErrBufferFull
	}
	if r.getFn == nil {
		r.getFn = r.get
	}
	r.done = done
	subreq := tsocket.ReadSomeFuncSend(ev, s, r.getFn)
	subreq.SetCallback(r.readDone)
	return nil
}

// ReadNow is Read for a stream whose transport may already hold input
// that no readiness report will announce, such as a TLS stream whose
// handshake read the peer's first request along with its last flight:
// ReadSomeFuncSend waits for the loop to report the socket readable, and
// it may never be, while ReadSomeSend tries the read at once. It reads
// into the connection's own buffer, since its callback may come a turn
// later, when the shared buffer serves another connection.
func (r *Reader) ReadNow(ev *tevent.Context, s *tsocket.Stream, done func(err error)) error {
	if r.max-len(r.in) <= 0 {
		return ErrBufferFull
	}
	r.reserve(min(r.max-len(r.in), minRead))
	r.done = done
	subreq := tsocket.ReadSomeSend(ev, s, r.in[len(r.in):cap(r.in)])
	subreq.SetCallback(r.readNowDone)
	return nil
}

func (r *Reader) readNowDone(subreq *tevent.Req[int]) {
	n, err := tsocket.ReadSomeRecv(subreq)
	r.in = r.in[:len(r.in)+n]
	r.done(err)
}

func (r *Reader) readDone(subreq *tevent.Req[[]byte]) {
	p, err := tsocket.ReadSomeFuncRecv(subreq)
	r.filled(p)
	defer r.keep() // a partial command leaves the shared buffer
	r.done(err)
}

// get is Read's buffer function, called once the socket is readable.
func (r *Reader) get() []byte {
	if len(r.in) == 0 && len(r.shared) > 0 {
		return r.shared[:min(len(r.shared), r.max)]
	}
	r.reserve(min(r.max-len(r.in), minRead))
	return r.in[len(r.in):cap(r.in)]
}

// filled takes the bytes p that a Read read: they are in the shared
// buffer, or after the pending bytes in the connection's own.
func (r *Reader) filled(p []byte) {
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
func (r *Reader) keep() {
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

// Add appends a copy of p to the input, as if a read had brought it: for
// bytes the connection read itself, such as a read into a vector of its
// own. It must not be called while a Read is in flight. Past the limit it
// adds nothing and returns ErrBufferFull.
func (r *Reader) Add(p []byte) error {
	if len(r.in)+len(p) > r.max {
		return ErrBufferFull
	}
	r.reserve(len(p))
	r.in = append(r.in, p...)
	return nil
}

// Consume drops the first n bytes, and the buffer itself when it is empty
// and large.
func (r *Reader) Consume(n int) {
	rest := copy(r.in, r.in[n:])
	r.in = r.in[:rest]
	if rest == 0 && cap(r.in) > idleBufCap {
		r.in = nil
	}
}
