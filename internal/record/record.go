// Package record holds stream input and cuts it into records that end in a
// delimiter. It is the one implementation behind tevent's
// MaskEvent.ReadUntil and tsocket's Reader: the buffer, the search for the
// delimiter, the length limit and the rule for a record over it.
//
// The caller does the reading. The loop is
//
//	for {
//		rec, res := b.Next(delim, limit)
//		switch res {
//		case record.Found: // use rec, valid until the next Free
//		case record.TooLong: // refuse it; the rest of it is skipped
//		case record.More:
//			n, err := read(b.Free(limit))
//			if err == io.EOF {
//				err = b.EOF()
//			}
//			...
//			b.Added(n)
//		}
//	}
//
// A Buffer never holds more than about max(limit, 4096) bytes (twice the
// delimiter's length when that is more): a record that has not ended within
// limit bytes is refused at once, and the bytes of it already held are
// dropped then, except the last len(delim)-1, which may start its
// delimiter.
//
// A reader that is about to wait for input calls Release: a Buffer that
// holds no input then gives its memory back to a pool shared by every
// Buffer, and Free takes a buffer from there again when the input comes.
// A server with many connections idling between records (an IMAP client
// in IDLE, a Redis client between commands) so holds one buffer per
// connection that has input, not one per connection. A Buffer holding the
// start of a record of at most shrinkMax bytes keeps it in a small pooled
// buffer of about its size while it waits.
package record

import (
	"bytes"
	"io"
	"math/bits"
	"sync"
)

// Result says what Next found.
type Result uint8

const (
	// More: no whole record is held. Read into Free, call Added, and call
	// Next again.
	More Result = iota
	// Found: the record, delimiter included, is returned.
	Found
	// TooLong: the next record is longer than the limit. What is held of
	// it has been dropped; the rest of it, up to and including its
	// delimiter, is skipped by the next Next or Skip.
	TooLong
)

// minBuf is the size of the first buffer, and so about the size of a
// read: big enough for many short records per read.
const minBuf = 4096

// shrinkMax is the most held input that Release moves out of a read
// buffer into a small one (of the next power of two, at least minSmall
// bytes): a client that sent half a command line and waits costs that,
// not a read buffer. The move is made once per wait and undone by the
// next Free, so a record trickling in a byte at a time costs at most two
// copies of shrinkMax bytes per read on top of the linear work, and none
// once it is longer.
const shrinkMax = 512

// minSmall is the size of the smallest pooled buffer.
const minSmall = 64

// pools hold released buffers by size: pools[k] those of minSmall<<k
// bytes, powers of two: the small buffers Release makes, and the read
// buffers that growth by doubling from minBuf makes. A buffer of another
// size (one capped at its limit), or larger than the last class (512 KiB),
// is left to the garbage collector. The pools are sync.Pools because
// Buffers of loops on different goroutines share them; what they hold
// goes back to the garbage collector within two cycles, so an idle server
// returns its read buffers too.
var pools [14]sync.Pool

// chunk is a pooled buffer. The pools hold pointers, so that putting one
// back allocates nothing.
type chunk struct{ b []byte }

// class returns the pool of buffers of n bytes, or -1 if n has none.
func class(n int) int {
	if n < minSmall || bits.OnesCount(uint(n)) != 1 {
		return -1
	}
	k := bits.TrailingZeros(uint(n / minSmall))
	if k >= len(pools) {
		return -1
	}
	return k
}

// getChunk returns a buffer of n bytes, from its pool if it has one.
func getChunk(n int) *chunk {
	if k := class(n); k >= 0 {
		if c, _ := pools[k].Get().(*chunk); c != nil {
			return c
		}
	}
	return &chunk{b: make([]byte, n)}
}

// putChunk gives c back to its pool, if its size has one.
func putChunk(c *chunk) {
	if k := class(len(c.b)); k >= 0 {
		pools[k].Put(c)
	}
}

// Buffer is input read from a stream and not yet consumed. The zero value
// is ready to use. A Buffer belongs to one reader, used from one goroutine
// at a time; it does no I/O itself.
type Buffer struct {
	c     *chunk // holds buf, which came from a pool or may go to one
	buf   []byte // c.b, or nil
	r, w  int    // unread input is buf[r:w]
	scan  int    // no delimiter starts in buf[r:scan]: the search resumes here
	delim []byte // the delimiter scan refers to (a copy)
	skip  bool   // dropping the rest of a record over the limit

	scanned int // bytes searched, for tests of the linear-scan rule
	copied  int // bytes moved by compaction and growth, likewise
}

// Next returns the next record ending in delim, delimiter included, if a
// whole one is held and it is at most limit bytes long: a slice of the
// buffer, valid until the next Free. A record known to be longer than
// limit (one whose delimiter is past limit, or one of which limit bytes
// are held without a delimiter) is TooLong, at once; the record is
// dropped, and if its delimiter has not arrived the Buffer skips input up
// to it first thing in later calls. Otherwise Next returns More. Bytes are
// searched once, whatever the size of the reads: a search resumes
// len(delim)-1 bytes before the end of the last one. delim must not be
// empty.
func (b *Buffer) Next(delim []byte, limit int) ([]byte, Result) {
	if !bytes.Equal(delim, b.delim) {
		b.delim = append(b.delim[:0], delim...)
		b.scan = b.r
	}
	if b.skip && !b.Skip() {
		return nil, More
	}
	end, ok := b.find()
	switch {
	case ok && end-b.r > limit:
		b.consume(end)
		return nil, TooLong
	case ok:
		rec := b.buf[b.r:end:end]
		b.consume(end)
		return rec, Found
	case b.w-b.r >= limit:
		b.skip = true
		b.drop()
		return nil, TooLong
	}
	return nil, More
}

// Skip drops held input up to and including the delimiter of the record
// being skipped, and reports whether it got there. If not, everything is
// dropped but the last len(delim)-1 bytes: read more and call it again. It
// reports true at once when nothing is being skipped.
func (b *Buffer) Skip() bool {
	if !b.skip {
		return true
	}
	if end, ok := b.find(); ok {
		b.skip = false
		b.consume(end)
		return true
	}
	b.drop()
	return false
}

// EOF returns the error for input that ends now: io.EOF between records,
// io.ErrUnexpectedEOF inside one (its bytes stay in Buffered) or inside
// one being skipped.
func (b *Buffer) EOF() error {
	if b.skip || b.r < b.w {
		return io.ErrUnexpectedEOF
	}
	return io.EOF
}

// Free makes room for a read and returns the space to read into, never
// empty when Next has just returned More (or Skip false): it moves the
// unread bytes to the front when little room is left behind them, and
// grows the buffer only when they fill most of it, up to max(limit, 4096)
// bytes; a small buffer of Release's is grown to a read buffer at once.
// Records returned earlier may be overwritten from here on.
func (b *Buffer) Free(limit int) []byte {
	free := len(b.buf) - b.w
	short := free == 0 || free < len(b.buf)/4 || len(b.buf) < minBuf
	if short && b.r > 0 {
		n := copy(b.buf, b.buf[b.r:b.w])
		b.copied += n
		b.scan -= b.r
		b.r, b.w = 0, n
		free = len(b.buf) - b.w
		short = free == 0 || free < len(b.buf)/4 || len(b.buf) < minBuf
	}
	if size := max(limit, minBuf, 2*len(b.delim)); short && len(b.buf) < size {
		b.moveInto(min(max(2*len(b.buf), minBuf), size))
	}
	return b.buf[b.w:]
}

// moveInto moves the unread input to the front of a pooled buffer of size
// bytes, which takes the place of the old one (back to its pool).
func (b *Buffer) moveInto(size int) {
	c := getChunk(size)
	b.copied += copy(c.b, b.buf[b.r:b.w])
	b.scan -= b.r
	b.r, b.w = 0, b.w-b.r
	if b.c != nil {
		putChunk(b.c)
	}
	b.c, b.buf = c, c.b
}

// Release gives the buffer back to the pool if it holds no input, and
// reports whether it gave a buffer back: call it when about to wait for
// input. Free takes a buffer again. Records returned earlier may be
// overwritten from here on, as after Free. A Buffer holding part of a
// record keeps it: moved into a small pooled buffer if it is at most
// shrinkMax bytes (the read buffer goes back), in the buffer that holds it
// otherwise.
func (b *Buffer) Release() bool {
	n := b.w - b.r
	switch {
	case b.buf == nil:
		return false
	case n == 0:
		putChunk(b.c)
		b.c, b.buf = nil, nil
		b.r, b.w, b.scan = 0, 0, 0
		return true
	case n <= shrinkMax && len(b.buf) > smallSize(n):
		b.moveInto(smallSize(n))
		return true
	}
	return false
}

// smallSize is the size of the small buffer that holds n bytes.
func smallSize(n int) int { return max(minSmall, 1<<bits.Len(uint(n-1))) }

// Delim returns the delimiter of the last Next, which the Buffer keeps a
// copy of, so that a reader waiting for the rest of a record need not.
func (b *Buffer) Delim() []byte { return b.delim }

// Added records that n bytes were read into the slice Free returned.
func (b *Buffer) Added(n int) { b.w += n }

// Buffered returns the input held and not yet returned as a record, valid
// until the next Free. A protocol that switches from records to counted
// reads takes the start of its payload from here, then calls Discard.
func (b *Buffer) Buffered() []byte { return b.buf[b.r:b.w] }

// Discard drops the first n buffered bytes (all of them if n is larger)
// and returns how many it dropped.
func (b *Buffer) Discard(n int) int {
	n = max(0, min(n, b.w-b.r))
	b.consume(b.r + n)
	return n
}

// Cap returns the size of the buffer, 0 when it holds none, for tests of
// the memory bound.
func (b *Buffer) Cap() int { return len(b.buf) }

// find returns the end of the first held delimiter, searching only bytes
// not searched before.
func (b *Buffer) find() (int, bool) {
	from := max(b.scan, b.r)
	b.scanned += b.w - from
	i := bytes.Index(b.buf[from:b.w], b.delim)
	if i < 0 {
		// A delimiter may start in the last len(delim)-1 bytes and end in
		// input not read yet.
		b.scan = max(b.r, b.w-len(b.delim)+1)
		return 0, false
	}
	return from + i + len(b.delim), true
}

// consume moves the read position to end.
func (b *Buffer) consume(end int) {
	b.r = end
	b.scan = max(b.scan, end)
	if b.r == b.w {
		// Empty: the next read starts at the front. A record just
		// returned stays valid until then, as documented.
		b.r, b.w, b.scan = 0, 0, 0
	}
}

// drop discards what find has searched, keeping the bytes that may start
// a delimiter.
func (b *Buffer) drop() { b.consume(max(b.scan, b.r)) }
