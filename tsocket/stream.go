package tsocket

import (
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// Stream is a connected stream socket, TCP or unix (tstream_context with the
// bsd backend). Reading and writing are requests: [ReadvSend],
// [WritevSend], [ReadvPDUSend], [ReadSomeSend], [ReadSomeFuncSend] and the
// queued variants. At most one read (of any of those kinds) and one writev
// are in flight at a time; a second fails with [ErrBusy]. On a unix
// stream [RecvFDsSend] and [SendFDsSend] count as the read and the writev.
//
// A Stream belongs to the goroutine running its context's loop: every
// method and every request on it is used from there. It owns its
// descriptor; Close releases it. A Stream with no request in flight and no
// wait event holds no event in the loop.
//
// A Stream is laid out to stay within 320 bytes because a server holds
// one per connection: the state of the read and the write in flight lives
// in it so requests allocate nothing else, and what few streams use (wait
// events, the iovec array of multi-buffer calls) lives in a streamExtra
// made on first use.
type Stream struct {
	reg fdReg
	tr  transport // what the engines read and write through: plainSocket{s}

	closed  bool
	unix    bool // network "unix", not "tcp"
	rdBytes bool // the read in flight has read something (EOF or ErrUnexpectedEOF)

	fill fillState // what the read after an exact fill found (chainAfterFill)

	rdWait tevent.Flags // what the read in flight waits for (the transport's readWait)
	wrWait tevent.Flags // what the writev in flight waits for (writeWait)

	local, remote Address
	remoteSA      any // unix.Sockaddr from accept, converted on demand

	rd readState
	wr writeState

	cleanupFn func(tevent.State) // s.cleanup, bound once

	x *streamExtra // nil until first needed

	// srv is the Server tracking s, if any: the first Close tells it, and
	// a TLS stream made from s takes its place there.
	srv *Server
}

// streamExtra is the part of a Stream that few streams use, kept out of
// line so that every connection's Stream stays in its size class.
type streamExtra struct {
	vec   []unix.Iovec // scratch iovec array for multi-buffer calls
	waits []*WaitEvent // in the order they were added

	// readSoon's immediate (TLS streams): bound once, queued at most once.
	readSoonFn      func()
	readSoonPending bool

	w writeExtra // SendFDsSend and CloseWriteSend in flight (fdpass.go)

	readv readvSomeFunc // a ReadvSomeFuncSend in flight (readkinds.go)

	// handshake is set while a TLS handshake's goroutine may make calls
	// on the descriptor (tls_handshake.go): s is busy, and Close runs it
	// before closing the descriptor, so that the call in progress is
	// over and no later one is made.
	handshake func()
}

// extra returns s.x, making it on first use.
func (s *Stream) extra() *streamExtra {
	if s.x == nil {
		s.x = &streamExtra{}
	}
	return s.x
}

// busy reports whether anything is in flight on s or holds it to its
// context: a read, a writev, a wait event.
func (s *Stream) busy() bool {
	return s.reading() || s.wr.req != nil || s.hasWaits() || s.x != nil && s.x.handshake != nil
}

// hasWaits reports whether s has wait events, which hold timers on its
// context and so tie it there.
func (s *Stream) hasWaits() bool { return s.x != nil && len(s.x.waits) > 0 }

func newStream(ev *tevent.Context, fd int, network string) *Stream {
	s := &Stream{unix: network == "unix"}
	s.tr = plainSocket{s}
	s.reg.init(ev, fd, s.onFD)
	s.cleanupFn = s.cleanup
	return s
}

// network is "tcp" or "unix", for errors.
func (s *Stream) network() string {
	if s.unix {
		return "unix"
	}
	return "tcp"
}

// onFD is the stream's fd handler: it moves the writev and the read on.
func (s *Stream) onFD(_ *tevent.FD, flags tevent.Flags) {
	s.reg.inHandler = true
	if flags&s.wrWait != 0 && s.wr.req != nil {
		s.writeStep()
	}
	if flags&s.rdWait != 0 && s.reading() && !s.closed {
		// A read that filled its buffer most likely left more behind. If
		// its callback started the next read, make that one now rather
		// than on the next iteration after another wait, as a goroutine
		// reading a net.Conn would; readChain bounds it so that one busy
		// stream cannot hold up the others.
		for range readChain {
			if !s.readStep() || !s.reading() || s.closed {
				break
			}
		}
		s.endChain()
		if s.reading() && !s.closed && s.tr.buffered() {
			s.readSoon() // the chain's bound, with input above the fd
		}
	}
	s.reg.inHandler = false
	if s.closed {
		return
	}
	if err := s.reg.apply(); err != nil {
		s.failAll(err, false)
	}
}

// wants recomputes the flags the in-flight requests need.
func (s *Stream) wants() tevent.Flags {
	var f tevent.Flags
	if s.reading() {
		f |= s.rdWait
	}
	if s.wr.req != nil {
		f |= s.wrWait
	}
	return f
}

func (s *Stream) opErr(op string, err error) error {
	return opError(op, s.network(), s.LocalAddress(), s.RemoteAddress(), err)
}

// cleanup is every read and write request's cleanup function: it forgets
// a request that ended without us (it timed out, was cancelled or was
// abandoned), whichever of the two it was. Lowering the interest can fail
// (an epoll_ctl MOD) when the other of the two is still in flight; that
// one then fails with the error, its callback on a later iteration since
// this runs inside another request's ending, rather than wait for events
// that may never be reported.
func (s *Stream) cleanup(tevent.State) {
	changed := false
	if s.reading() && !s.rd.r.inProgress() {
		s.forgetRead()
		changed = true
	}
	if s.wr.req != nil && !s.wr.req.IsInProgress() {
		s.wr = writeState{}
		changed = true
	}
	if changed && !s.closed {
		if err := s.reg.set(s.wants()); err != nil {
			s.failAll(err, true)
		}
	}
}

// failAll fails the requests in flight with cause, each in an *OpError
// of its own Op; with deferred callbacks when called from Close, so no
// callback runs inside Close.
func (s *Stream) failAll(cause error, deferCB bool) {
	if r := s.rd.r; r != nil {
		r.fail(s, s.opErr(r.op(), cause), deferCB)
	}
	if s.wr.req != nil {
		s.endWrite(s.opErr("writev", cause), deferCB)
	}
}

// finish ends req, a read or write request that s has just forgotten
// (op names it), with v or err. Interest is lowered first; an epoll_ctl
// that fails then fails the request, unless it had failed already.
// deferCB defers the callback to a later iteration: Close runs none.
func finish[T any](s *Stream, op string, req *tevent.Req[T], v T, err error, deferCB bool) {
	if !s.closed {
		if e := s.reg.set(s.wants()); e != nil && err == nil {
			err = s.opErr(op, e)
		}
	}
	if deferCB {
		req.DeferCallback()
	}
	if !req.Error(err) {
		req.Done(v)
	}
}

// PendingBytes returns how many bytes can be read from s without waiting
// (FIONREAD, tstream_pending_bytes).
func (s *Stream) PendingBytes() (int, error) {
	if s.closed {
		return 0, s.opErr("ioctl", errClosed)
	}
	n, err := sys.PendingBytes(s.reg.fd)
	if err != nil {
		return 0, s.opErr("ioctl", sysErr(sys.PendingBytesCall, err))
	}
	return n, nil
}

// LocalAddress returns the address s is bound to, or nil if it cannot be
// found (after Close).
func (s *Stream) LocalAddress() Address {
	if s.local == nil && !s.closed {
		if sa, err := sys.Getsockname(s.reg.fd); err == nil {
			s.local = fromSockaddr(sa)
		}
	}
	return s.local
}

// RemoteAddress returns the address of the peer, or nil if it cannot be
// found (an unnamed unix peer has the empty unix address).
func (s *Stream) RemoteAddress() Address {
	if s.remote == nil {
		if sa, ok := s.remoteSA.(unix.Sockaddr); ok {
			s.remote = fromSockaddr(sa)
			s.remoteSA = nil
		} else if !s.closed {
			if sa, err := sys.Getpeername(s.reg.fd); err == nil {
				s.remote = fromSockaddr(sa)
			}
		}
	}
	return s.remote
}

// Fd returns the descriptor, which s still owns.
func (s *Stream) Fd() int { return s.reg.fd }

// Close closes s: requests in flight fail with net.ErrClosed (their
// callbacks run on a later iteration), wait events are removed, the fd
// event is removed and the descriptor closed. Closing again does nothing.
func (s *Stream) Close() error {
	if s.closed {
		return nil
	}
	s.LocalAddress() // keep the addresses for error messages
	s.RemoteAddress()
	s.closed = true
	if s.srv != nil {
		defer s.srv.forget(s)
	}
	s.failAll(errClosed, true)
	s.removeWaitEvents()
	var notifyErr error
	if t, ok := s.tr.(*tlsTransport); ok {
		// close_notify, as far as the socket takes it now: the peer
		// learns the end was meant, not a truncation. As tls.Conn.Close,
		// a failure to send it is reported, after the close.
		notifyErr = t.closeNotify()
	}
	s.reg.drop()
	if x := s.x; x != nil && x.handshake != nil {
		x.handshake()
		x.handshake = nil
	}
	if err := sys.Close(s.reg.fd); err != nil {
		return s.opErr("close", sysErr("close", err))
	}
	if notifyErr != nil {
		return s.opErr("tls", notifyErr)
	}
	return nil
}

func (s *Stream) disconnect() error {
	if s.closed {
		return s.opErr("disconnect", errClosed)
	}
	if s.reading() || s.wr.req != nil {
		return s.opErr("disconnect", ErrBusy)
	}
	return s.Close()
}
