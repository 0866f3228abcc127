package tsocket

import (
	"fmt"
	"io"
	"syscall"

	"github.com/gotevent/gotevent/internal/record"
	"github.com/gotevent/gotevent/tevent"
)

// ErrRecordTooLong is the error (wrapped in an [*OpError]) of a
// [ReadUntilSend] whose record is longer than the Reader's max. It is
// tevent.ErrRecordTooLong: one sentinel for both record readers, so
// errors.Is(err, tsocket.ErrRecordTooLong) and errors.Is(err,
// tevent.ErrRecordTooLong) hold alike, and so does errors.Is(err,
// syscall.EMSGSIZE).
var ErrRecordTooLong = tevent.ErrRecordTooLong

// errEmptyDelimiter is the error of a ReadUntilSend with no delimiter.
var errEmptyDelimiter = fmt.Errorf("tsocket: empty delimiter: %w", syscall.EINVAL)

// Reader reads records and counted payloads from a [Stream] through a
// buffer, as bufio.Reader does for an io.Reader, with requests:
// [ReadUntilSend] returns the next record ending in a delimiter (a line),
// [ReadFullSend] fills a buffer (a literal, a message body). It is the
// request-style twin of the callback-mask API's MaskEvent.ReadUntil, and
// shares its implementation.
//
// A Reader belongs to the goroutine running ev's loop, as its stream
// does, and owns the stream's read side: it keeps at most one read in
// flight on the stream, and reads into the free end of its buffer with
// one read per arrival. Reading the stream directly as well
// (ReadvSend, ReadSomeSend) is an error: while the Reader has a read in
// flight such a read fails with [ErrBusy], and otherwise it takes bytes
// from under the Reader. One ReadUntilSend or ReadFullSend may be in
// flight on a Reader; a second fails with ErrBusy.
//
// A Reader holds no buffer while it holds no input: it takes one from a
// pool that every Reader and MaskEvent.ReadUntil share right before it
// reads the socket, and gives it back before it waits (as
// [ReadSomeFuncSend] holds no buffer while it waits) once the records read
// into it are used up, so that many connections waiting for their next
// command, or sitting in IMAP IDLE, cost no buffer each. A Reader waiting
// for the rest of a record keeps what it has of it: in a small pooled
// buffer of about its size if it is at most 512 bytes (a client that sent
// half a command line), in its read buffer if more. The read buffer grows
// as records need it, up to max bytes (or 4 KiB if that is more), and
// unread bytes are moved to its front before a read rather than grown
// past. A record already buffered is returned without a system
// call, through Post. A record of more than max bytes (delimiter included)
// fails with [ErrRecordTooLong] as soon as max bytes hold no delimiter, so
// that a server can answer at once; the Reader drops what it holds of the
// record, and the next read on it, of either kind, first skips the rest of
// it up to and including its delimiter. The stream stays usable, and an
// endless line costs no more memory than max and one read.
//
// A request that times out, is cancelled or is abandoned abandons the read
// it has in flight on the stream. A ReadUntilSend loses nothing: what was
// read stays in the buffer for the next one. A ReadFullSend that ends so
// part-way has taken bytes it never delivered (from the buffer, or read
// straight into the caller's buffer): the position in the stream is then
// unknown, as after a ReadvSend that times out, and the connection should
// be closed. Closing the stream fails the request in flight with
// net.ErrClosed, and every later one that must read; records already
// buffered are still returned, as bufio.Reader returns them after its
// reader fails.
type Reader struct {
	ev  *tevent.Context
	s   *Stream
	max int
	buf record.Buffer

	// The ReadUntilSend in flight; its delimiter is buf's.
	until *tevent.Req[[]byte]
	// The ReadFullSend in flight, the size of its buffer, and the part of
	// that buffer still to fill (the vector of a direct read).
	full *tevent.Req[int]
	size int
	rest [1][]byte

	sub   *tevent.Req[int]    // the direct read on s in flight for full
	subFn *tevent.Req[[]byte] // or the read into buf in flight

	// Bound once, so that requests allocate no closures.
	directDone func(*tevent.Req[int])
	lateDone   func(*tevent.Req[[]byte])
	cleanupFn  func(tevent.State)
	cancelFn   func() bool
}

// NewReader returns a Reader of s on ev's loop accepting records of up to
// max bytes, delimiter included; max <= 0 means tevent.DefaultMaxRecord
// (64 KiB). The Reader holds no buffer until input arrives.
func NewReader(ev *tevent.Context, s *Stream, max int) *Reader {
	if max <= 0 {
		max = tevent.DefaultMaxRecord
	}
	r := &Reader{ev: ev, s: s, max: max}
	r.directDone, r.lateDone = r.onDirect, r.onLate
	r.cleanupFn, r.cancelFn = r.cleanup, r.cancel
	return r
}

// Buffered returns how many bytes r holds that no request has returned.
func (r *Reader) Buffered() int { return len(r.buf.Buffered()) }

// ReadUntilSend reads the next record from r: the bytes up to and
// including the first delim (net/textproto's line, bufio's ReadSlice). A
// record already buffered finishes the request at once, through Post;
// otherwise r reads until one is complete. delim belongs to the caller
// until the request has finished.
func ReadUntilSend(ev *tevent.Context, r *Reader, delim []byte) *tevent.Req[[]byte] {
	req := tevent.NewReq[[]byte](ev)
	if err := r.start(ev, len(delim) == 0); req.Error(err) {
		return req.Post()
	}
	r.until = req
	r.untilStep(delim)
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// ReadUntilRecv returns the record ReadUntilSend read, delimiter included:
// a slice of r's buffer, valid until the next read on r (copy it to keep
// it). Or the error: io.EOF at a clean end between records,
// io.ErrUnexpectedEOF for a partial record at the end (its bytes stay
// buffered) or one being skipped, ErrRecordTooLong for a record over max
// (the next read skips the rest of it), ErrBusy for a second read in
// flight, net.ErrClosed once the stream is closed, or the errno of a
// failed read, all but the EOFs wrapped in an *OpError. A Cancel finishes
// it with tevent.ErrCancelled and loses nothing.
func ReadUntilRecv(req *tevent.Req[[]byte]) ([]byte, error) { return req.Recv() }

// ReadFullSend fills buf (io.ReadFull): with what r holds first, then
// straight from the socket, so that a payload bigger than what is
// buffered is read once, into its final place. If r holds len(buf) bytes
// the request finishes at once, through Post. buf belongs to the caller
// until the request has finished. An empty buf reads nothing. Cancel is
// refused: it would lose the bytes already taken.
func ReadFullSend(ev *tevent.Context, r *Reader, buf []byte) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	if err := r.start(ev, false); req.Error(err) {
		return req.Post()
	}
	if len(buf) == 0 {
		req.Done(0)
		return req.Post()
	}
	r.full, r.size, r.rest[0] = req, len(buf), buf
	r.fullStep()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// ReadFullRecv returns len(buf) once ReadFullSend has filled it, or 0 and
// the error: io.EOF if the stream ended before its first byte,
// io.ErrUnexpectedEOF if it ended part-way (buf then holds an unknown part
// of the payload), and otherwise as ReadUntilRecv.
func ReadFullRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// start checks that a request may start on r.
func (r *Reader) start(ev *tevent.Context, emptyDelim bool) error {
	switch {
	case ev != r.ev:
		return r.opErr(ErrWrongContext)
	case r.until != nil || r.full != nil:
		return r.opErr(ErrBusy)
	case emptyDelim:
		return r.opErr(errEmptyDelimiter)
	}
	return nil
}

// untilStep finishes the ReadUntilSend in flight from the buffer, or reads
// more for it. delim is the request's, or nil for the one the buffer
// keeps from the last call.
func (r *Reader) untilStep(delim []byte) {
	if delim == nil {
		delim = r.buf.Delim()
	}
	rec, res := r.buf.Next(delim, r.max)
	if res == record.More {
		r.until.SetCleanupFn(r.cleanupFn)
		r.until.SetCancelFn(r.cancelFn)
		r.readMore()
		return
	}
	req := r.until
	r.until = nil
	if res == record.TooLong {
		req.Error(r.opErr(fmt.Errorf("record over %d bytes: %w", r.max, ErrRecordTooLong)))
		return
	}
	req.Done(rec)
}

// fullStep moves the ReadFullSend in flight on: it finishes skipping a
// record over max, takes what the buffer holds, and reads the rest
// straight into the caller's buffer.
func (r *Reader) fullStep() {
	if !r.buf.Skip() {
		r.full.SetCleanupFn(r.cleanupFn)
		r.readMore()
		return
	}
	r.rest[0] = r.rest[0][r.buf.Discard(copy(r.rest[0], r.buf.Buffered())):]
	if len(r.rest[0]) == 0 {
		r.endFull(nil)
		return
	}
	r.buf.Release() // it is empty: the rest goes straight into place
	r.full.SetCleanupFn(r.cleanupFn)
	r.sub = ReadvSend(r.ev, r.s, r.rest[:])
	r.sub.SetCallback(r.directDone)
}

// readMore reads what arrives into the free end of the buffer, at once if
// the socket has data. The buffer is taken right before each read of the
// socket and released before each wait (record.Buffer.Release): a Reader
// that holds no input holds no buffer while it waits, and one that holds
// the start of a short record holds it in a small buffer.
func (r *Reader) readMore() {
	if r.Buffered() == 0 {
		r.buf.Release() // the records read from it are done with
	}
	r.subFn = readLateSend(r.ev, r.s, lateReader{r}, false, true)
	r.subFn.SetCallback(r.lateDone)
}

// lateReader is the buffer source of readMore's late read: the buffer is
// taken right before a read of the socket and released before each wait.
// (A pointer-shaped value: making the interface allocates nothing.)
type lateReader struct{ r *Reader }

func (l lateReader) buf() []byte { return l.r.buf.Free(l.r.max) }
func (l lateReader) put()        { l.r.buf.Release() }

// onLate is the callback of readMore's late read.
func (r *Reader) onLate(sub *tevent.Req[[]byte]) {
	r.subFn = nil
	b, err := ReadSomeFuncRecv(sub)
	r.gotInput(len(b), err)
}

// gotInput takes the result of a read into the buffer and moves the
// request in flight on.
func (r *Reader) gotInput(n int, err error) {
	switch {
	case err == nil:
		r.buf.Added(n)
	case err == io.EOF:
		err = r.buf.EOF() // io.EOF between records only
	}
	if err != nil {
		r.buf.Release() // nothing more comes: keep no empty buffer
	}
	switch {
	case r.until != nil && err != nil:
		req := r.until
		r.until = nil
		req.Error(err)
	case r.until != nil:
		r.untilStep(nil)
	case r.full != nil && err != nil:
		r.endFull(err)
	case r.full != nil:
		r.fullStep()
	}
}

// onDirect is the callback of fullStep's read into the caller's buffer.
func (r *Reader) onDirect(sub *tevent.Req[int]) {
	r.sub = nil
	_, err := ReadvRecv(sub)
	if err == io.EOF && len(r.rest[0]) < r.size {
		err = io.ErrUnexpectedEOF
	}
	r.endFull(err)
}

// endFull finishes the ReadFullSend in flight.
func (r *Reader) endFull(err error) {
	req, n := r.full, r.size
	r.full, r.size, r.rest[0] = nil, 0, nil
	if !req.Error(err) {
		req.Done(n)
	}
}

// cleanup is the cleanup function of every request of r that waits: it
// forgets one that ended without r (it timed out, was cancelled or
// abandoned, or the context closed), and the read made for it.
func (r *Reader) cleanup(tevent.State) {
	if r.until != nil && !r.until.IsInProgress() {
		r.until = nil
		r.dropSub()
	}
	if r.full != nil && !r.full.IsInProgress() {
		r.full, r.size, r.rest[0] = nil, 0, nil
		r.dropSub()
	}
}

// cancel is a ReadUntilSend's cancel function: stopping it loses nothing.
func (r *Reader) cancel() bool { return r.until != nil }

// dropSub abandons the read in flight on the stream. A read into the
// buffer that has finished but not yet called back keeps its bytes.
func (r *Reader) dropSub() {
	if sub := r.subFn; sub != nil {
		r.subFn = nil
		if sub.State() == tevent.StateDone {
			sub.SetCallback(nil)
			b, _ := ReadSomeFuncRecv(sub)
			r.buf.Added(len(b))
			return
		}
		sub.Abandon()
		return
	}
	if sub := r.sub; sub != nil {
		r.sub = nil
		sub.Abandon() // a direct read: its bytes are lost with the request
	}
}

// opErr wraps err as the stream's own read errors are.
func (r *Reader) opErr(err error) error {
	network := "tcp"
	if _, ok := r.s.LocalAddress().(*UnixAddr); ok {
		network = "unix"
	}
	return &OpError{Op: "read", Net: network, Source: r.s.LocalAddress(), Addr: r.s.RemoteAddress(), Err: err}
}
