package tsocket

import "github.com/gotevent/gotevent/tevent"

// The kinds of read that run on the read engine (read.go), each a reader
// with its Send and Recv: ReadvSend fills a vector, ReadSomeSend takes
// what arrives into one buffer, ReadSomeFuncSend takes it into a buffer
// supplied late, ReadvSomeFuncSend into a vector supplied late.
// ReadvPDUSend's reader is in pdu.go.

// readvFill is a ReadvSend: it ends once every buffer of its vector is
// full, with their total size.
type readvFill struct{ req *tevent.Req[int] }

func (r *readvFill) op() string { return "readv" }

// vector ends the request: the one vector ReadvSend gave has been filled.
func (r *readvFill) vector(s *Stream) bool {
	endRead(s, r.req, s.rd.v.total(), nil, false)
	return false
}

func (r *readvFill) got(*Stream, int) bool { return true }
func (r *readvFill) wait(*Stream)          {}
func (r *readvFill) inProgress() bool      { return r.req.IsInProgress() }

func (r *readvFill) fail(s *Stream, err error, deferCB bool) { endRead(s, r.req, 0, err, deferCB) }

// readSome is a ReadSomeSend: its vector is the caller's one buffer, and
// it ends with the first bytes read.
type readSome readvFill

func (r *readSome) op() string { return "read" }

// vector is asked for only if the buffer was empty, which ReadSomeSend
// refuses: the read ends at its first bytes, before the buffer is full.
func (r *readSome) vector(s *Stream) bool {
	endRead(s, r.req, 0, s.opErr(r.op(), ErrEmptyVector), false)
	return false
}

func (r *readSome) got(s *Stream, n int) bool {
	endRead(s, r.req, n, nil, false)
	return false
}

func (r *readSome) wait(*Stream)     {}
func (r *readSome) inProgress() bool { return r.req.IsInProgress() }

func (r *readSome) fail(s *Stream, err error, deferCB bool) { endRead(s, r.req, 0, err, deferCB) }

// readSomeFunc is a ReadSomeFuncSend: it asks get for its buffer right
// before each read, holds none while it waits, and ends with the first
// bytes read, a prefix of that buffer.
type readSomeFunc struct {
	req *tevent.Req[[]byte]
	src lateBuffer
}

// lateBuffer is where a readSomeFunc takes its buffer: buf right before
// each read, put before each wait (when the buffer buf gave, if any, is
// no longer held by the read).
type lateBuffer interface {
	buf() []byte
	put()
}

// getFunc is ReadSomeFuncSend's get as a lateBuffer.
type getFunc func() []byte

func (g getFunc) buf() []byte { return g() }
func (getFunc) put()          {}

func (r *readSomeFunc) op() string { return "read" }

func (r *readSomeFunc) vector(s *Stream) bool {
	req := r.req
	b := r.src.buf()
	switch {
	case r.req != req || s.closed:
		return false // closed or abandoned from inside get
	case len(b) == 0:
		endRead(s, req, nil, s.opErr(r.op(), ErrEmptyVector), false)
		return false
	}
	s.rd.one[0] = b
	s.rd.v.set(s.rd.one[:])
	return true
}

func (r *readSomeFunc) got(s *Stream, n int) bool {
	endRead(s, r.req, s.rd.one[0][:n:n], nil, false)
	return false
}

// wait drops the buffer, so that a connection waiting for its next
// message holds none: get is asked again once the socket is readable.
// The source hears it, and may take back the buffer it gave.
func (r *readSomeFunc) wait(s *Stream) {
	s.rd.one[0], s.rd.v = nil, ioVec{}
	r.src.put()
}

func (r *readSomeFunc) inProgress() bool { return r.req.IsInProgress() }

func (r *readSomeFunc) fail(s *Stream, err error, deferCB bool) { endRead(s, r.req, nil, err, deferCB) }

// readvSomeFunc is a ReadvSomeFuncSend: readv(2) into a vector that get
// supplies right before each read, none held while it waits, ending with
// the first bytes read. Its state is in the stream's extra part (few
// streams read this way), so that the Stream keeps its size class.
type readvSomeFunc struct {
	req *tevent.Req[int]
	get func() [][]byte
}

func (r *readvSomeFunc) op() string { return "readv" }

func (r *readvSomeFunc) vector(s *Stream) bool {
	req := r.req
	iov := r.get()
	switch {
	case r.req != req || s.closed:
		return false // closed or abandoned from inside get
	case total(iov) == 0:
		endRead(s, req, 0, s.opErr(r.op(), ErrEmptyVector), false)
		return false
	}
	s.rd.v.set(iov)
	return true
}

func (r *readvSomeFunc) got(s *Stream, n int) bool {
	endRead(s, r.req, n, nil, false)
	return false
}

// wait drops the vector: get is asked again once the socket is readable.
func (r *readvSomeFunc) wait(s *Stream) { s.rd.v = ioVec{} }

func (r *readvSomeFunc) inProgress() bool { return r.req.IsInProgress() }

func (r *readvSomeFunc) fail(s *Stream, err error, deferCB bool) { endRead(s, r.req, 0, err, deferCB) }

// ReadvSend starts reading from s until every byte of every buffer in iov is
// filled (tstream_readv_send). The buffers belong to the caller and must
// not be touched until the request has finished. The read is tried at once;
// if data is already there the request completes through Post.
func ReadvSend(ev *tevent.Context, s *Stream, iov [][]byte) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	if err := s.startRead(ev, "readv", len(iov) == 0); req.Error(err) {
		return req.Post()
	}
	s.rd.kinds.readv = readvFill{req: req}
	s.beginRead(&s.rd.kinds.readv)
	s.rd.v.set(iov)
	req.SetCleanupFn(s.cleanupFn)
	s.readStepOrWait()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// ReadvRecv returns the number of bytes read (every byte of the vector), or
// the error: io.EOF if the peer closed before the first byte,
// io.ErrUnexpectedEOF if it closed part-way, ErrBusy for a second readv in
// flight, ErrEmptyVector for no buffers, net.ErrClosed after Close or
// disconnect, or the errno of a failed read wrapped in an *OpError.
func ReadvRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// ReadSomeSend reads what the socket holds, at least one byte and at most
// len(buf), as net.Conn.Read and recv(2) do: the request finishes as soon
// as any bytes arrive. It is how a server reads a protocol whose message
// boundaries it finds by parsing (RESP, lines) with one read per arrival,
// where ReadvPDUSend would need the pending byte count first. It counts as
// the stream's one read in flight; buf belongs to the caller and must not
// be touched until the request has finished.
func ReadSomeSend(ev *tevent.Context, s *Stream, buf []byte) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	if err := s.startRead(ev, "read", len(buf) == 0); req.Error(err) {
		return req.Post()
	}
	*s.rd.kinds.some() = readSome{req: req}
	s.beginRead(s.rd.kinds.some())
	s.rd.one[0] = buf
	s.rd.v.set(s.rd.one[:])
	req.SetCleanupFn(s.cleanupFn)
	s.readStepOrWait()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// ReadSomeRecv returns how many bytes ReadSomeSend read (at least one), or
// the error: io.EOF if the peer closed, ErrBusy for a second read in
// flight, ErrEmptyVector for an empty buf, net.ErrClosed after Close or
// disconnect, or the errno of a failed read wrapped in an *OpError.
func ReadSomeRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

// ReadSomeFuncSend is ReadSomeSend with the buffer supplied late: get is
// called only when the loop reports the socket readable, right before the
// read, so a connection waiting for its next message holds no read buffer
// at all. The callback runs straight after the read, from the loop's fd
// handler, before any other event is handled. That makes one buffer
// shared by every connection of a loop safe, as long as each callback is
// done with the bytes (or takes the buffer over) before it returns. An
// idle connection then costs a few hundred bytes instead of its buffer.
//
// Unlike ReadSomeSend, the read is not tried inside Send: it waits for the
// loop even if data is already there, so that the callback is never
// deferred. get runs on the loop goroutine; it is called again if a read
// finds nothing after all (the earlier buffer was not written to). A nil
// get, or a nil or empty buffer, fails the request with ErrEmptyVector.
// The request finishes as soon as any bytes arrive and counts as the
// stream's one read in flight.
func ReadSomeFuncSend(ev *tevent.Context, s *Stream, get func() []byte) *tevent.Req[[]byte] {
	return readLateSend(ev, s, getFunc(get), get == nil, false)
}

// readLateSend is ReadSomeFuncSend from a lateBuffer, and with now the
// Reader's read into a buffer taken late: that one is tried inside Send,
// as ReadSomeSend is (finishing through Post if data is there).
func readLateSend(ev *tevent.Context, s *Stream, src lateBuffer, none, now bool) *tevent.Req[[]byte] {
	req := tevent.NewReq[[]byte](ev)
	if err := s.startRead(ev, "read", none); req.Error(err) {
		return req.Post()
	}
	s.rd.kinds.fn = readSomeFunc{req: req, src: src}
	s.beginRead(&s.rd.kinds.fn)
	req.SetCleanupFn(s.cleanupFn)
	if now && (!s.reg.waiting(s.rdWait) || s.tr.buffered()) {
		// As readStepOrWait: read now unless the loop already watches
		// the socket.
		s.readStep()
		if !req.IsInProgress() {
			return req.Post()
		}
		return req
	}
	src.put() // it waits
	return waitLate(s, req)
}

// waitLate makes req, a read whose buffers are taken late, wait for the
// loop to report the socket readable.
func waitLate[T any](s *Stream, req *tevent.Req[T]) *tevent.Req[T] {
	if err := s.reg.set(s.wants()); err != nil {
		s.failRead(err)
		return req.Post()
	}
	if s.tr.buffered() {
		s.readSoon() // input above the descriptor: no report will come
	}
	return req
}

// ReadSomeFuncRecv returns the bytes ReadSomeFuncSend read (at least one),
// a prefix of the buffer get returned last, or the error: io.EOF if the
// peer closed, ErrBusy for a second read in flight, ErrEmptyVector for a
// nil get or an empty buffer, net.ErrClosed after Close or disconnect, or
// the errno of a failed read wrapped in an *OpError.
func ReadSomeFuncRecv(req *tevent.Req[[]byte]) ([]byte, error) { return req.Recv() }

// ReadvSomeFuncSend is ReadSomeFuncSend with a vector: get supplies the
// buffers right before the read, which is one readv(2) into them and
// finishes as soon as any bytes arrive, filling the buffers in order. It
// is for a server that knows what the next message probably looks like:
// a large value after a header of known length can arrive in one call,
// the header in a scratch buffer, the value straight into its own buffer
// at offset 0, what follows into the loop's shared buffer. The rules are
// ReadSomeFuncSend's: get is called only once the socket is readable, and
// again if a read finds nothing after all; no buffer is held while the
// read waits; the callback runs straight after the read, from the loop's
// fd handler. A nil get, or a vector with no bytes, fails the request
// with ErrEmptyVector. The request counts as the stream's one read in
// flight.
func ReadvSomeFuncSend(ev *tevent.Context, s *Stream, get func() [][]byte) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	if err := s.startRead(ev, "readv", get == nil); req.Error(err) {
		return req.Post()
	}
	x := s.extra()
	x.readv = readvSomeFunc{req: req, get: get}
	s.beginRead(&x.readv)
	req.SetCleanupFn(s.cleanupFn)
	return waitLate(s, req)
}

// ReadvSomeFuncRecv returns how many bytes ReadvSomeFuncSend read (at
// least one), into the vector get returned last, or the error: io.EOF if
// the peer closed, ErrBusy for a second read in flight, ErrEmptyVector for
// a nil get or an empty vector, net.ErrClosed after Close or disconnect,
// or the errno of a failed read wrapped in an *OpError.
func ReadvSomeFuncRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }
