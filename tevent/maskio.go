package tevent

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/gotevent/gotevent/internal/record"
	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// DefaultMaxRecord is the longest record, delimiter included, that ReadUntil
// accepts when LineState.MaxRecord is 0.
const DefaultMaxRecord = 64 << 10

// Read reads into buf from e's fd. When nothing can be read
// without blocking it returns 0, FDRead and unix.EAGAIN itself (not
// wrapped): return FDRead from the MaskFunc and try again when called.
// A clean close by the peer is io.EOF; other errors wrap the errno (test
// with errors.Is, for example errors.Is(err, unix.ECONNRESET)). need is 0
// when err is not unix.EAGAIN. An empty buf reads nothing and returns 0, 0,
// nil.
func (e *MaskEvent) Read(buf []byte) (n int, need Flags, err error) {
	if len(buf) == 0 {
		return 0, 0, nil
	}
	if e.tls != nil {
		return e.tls.read(buf) // StartTLS
	}
	raw := e.rawOK()
	for {
		if raw {
			n, err = sys.Read(e.fd, buf)
		} else {
			n, err = sys.ReadBlocking(e.fd, buf)
		}
		switch {
		case sys.Interrupted(err):
			continue
		case sys.WouldBlock(err):
			return 0, FDRead, unix.EAGAIN
		case err != nil:
			return 0, 0, os.NewSyscallError("read", err)
		case n == 0:
			return 0, 0, io.EOF
		}
		return n, 0, nil
	}
}

// Write writes as much of buf as the fd takes without blocking and returns
// how much that was. When it takes nothing it returns 0, FDWrite and
// unix.EAGAIN itself (not wrapped): return FDWrite from the MaskFunc and
// write the rest when called. Other errors wrap the errno (errors.Is(err,
// unix.EPIPE) for a peer that is gone). need is 0 when err is not
// unix.EAGAIN.
//
// A write never raises SIGPIPE on a socket: it uses send(2) with
// MSG_NOSIGNAL. On an fd that is not a socket (a pipe) it falls back to
// write(2); a broken pipe then raises SIGPIPE, which the Go runtime ignores
// for descriptors other than 1 and 2 (see os/signal), and the write returns
// EPIPE. darwin has no MSG_NOSIGNAL: there a socket raises SIGPIPE the same
// way unless it has SO_NOSIGPIPE, as every socket tsocket makes has.
func (e *MaskEvent) Write(buf []byte) (n int, need Flags, err error) {
	if len(buf) == 0 {
		return 0, 0, nil
	}
	if e.tls != nil {
		return e.tls.write(buf) // StartTLS
	}
	raw := e.rawOK()
	for {
		call := "write"
		switch {
		case e.notSock && raw:
			n, err = sys.Write(e.fd, buf)
		case e.notSock:
			n, err = sys.WriteBlocking(e.fd, buf)
		case raw:
			call = "send"
			n, err = sys.Send(e.fd, buf)
		default:
			call = "sendmsg"
			n, err = sys.SendBlocking(e.fd, buf)
		}
		if !e.notSock && err == unix.ENOTSOCK {
			e.notSock = true
			continue
		}
		switch {
		case err == nil:
			return n, 0, nil
		case sys.Interrupted(err):
			continue
		case sys.WouldBlock(err):
			return 0, FDWrite, unix.EAGAIN
		}
		return 0, 0, os.NewSyscallError(call, err)
	}
}

// rawOK reports whether e's fd is non-blocking, so that Read and Write may
// bypass the scheduler (package sys). It asks the kernel once per event,
// so an fd made blocking after its first Read or Write must get a new
// event. A blocking fd is served through the usual system calls.
func (e *MaskEvent) rawOK() bool {
	if e.nonblock == 0 {
		e.nonblock = -1
		if sys.Nonblocking(e.fd) {
			e.nonblock = 1
		}
	}
	return e.nonblock > 0
}

// IOResult says where an IOState operation is.
type IOResult uint8

const (
	// IOPending: the operation could not finish without blocking. Return
	// IOState.Need from the MaskFunc and continue it when called.
	IOPending IOResult = iota + 1
	// IODone: every byte was transferred.
	IODone
	// IOFailed: the operation stopped on an error, in IOState.Err.
	IOFailed
)

// String returns the result's name.
func (r IOResult) String() string {
	switch r {
	case IOPending:
		return "pending"
	case IODone:
		return "done"
	case IOFailed:
		return "failed"
	}
	return fmt.Sprintf("IOResult(%d)", uint8(r))
}

type ioOp uint8

const (
	ioNone ioOp = iota
	ioRead
	ioWrite
)

// IOState tracks one read or write of a whole buffer across the partial
// transfers of a non-blocking fd (Momentum's event_io_state), so a MaskFunc
// can start it, return Need while it is pending, and continue it when
// called again. The zero value is ready to use. It belongs to whoever does
// the I/O, one operation at a time; the buffer of a pending operation must
// not change until it is done.
type IOState struct {
	// Done is how many bytes of the current (or last) operation have been
	// transferred. The IO methods set it; read it, do not write it.
	Done int
	// Need is the mask to return from the MaskFunc while the operation is
	// pending (FDRead or FDWrite); 0 once it is done or failed.
	Need Flags
	// Err is why the last operation failed (IOFailed); nil otherwise.
	// io.EOF means the peer closed before IORead got a byte,
	// io.ErrUnexpectedEOF that it closed part-way.
	Err error

	op   ioOp
	buf  []byte
	last IOResult
}

// IOWrite writes all of buf across calls (event_io_write): it writes what
// the fd takes now and returns IODone, IOPending (return st.Need, then
// continue with IORetry, or IOWrite with the same buf) or IOFailed
// (st.Err). Called with a buffer other than the one pending on st, it
// starts a new write and forgets the old one.
func (e *MaskEvent) IOWrite(buf []byte, st *IOState) IOResult {
	if st.op != ioWrite || !sameBuf(st.buf, buf) {
		st.start(ioWrite, buf)
	}
	return e.ioStep(st)
}

// IORead reads exactly len(buf) bytes into buf across calls
// (event_io_read): it reads what has arrived and returns IODone once buf is
// full, IOPending (return st.Need, then continue with IORetry, or IORead
// with the same buf) or IOFailed (st.Err). Called with a buffer other than
// the one pending on st, it starts a new read.
func (e *MaskEvent) IORead(buf []byte, st *IOState) IOResult {
	if st.op != ioRead || !sameBuf(st.buf, buf) {
		st.start(ioRead, buf)
	}
	return e.ioStep(st)
}

// IORetry continues the operation pending on st (event_io_retry). With
// nothing pending it returns the result of the last operation again (IODone
// for a zero IOState).
func (e *MaskEvent) IORetry(st *IOState) IOResult {
	if st.op == ioNone {
		if st.last == 0 {
			return IODone
		}
		return st.last
	}
	return e.ioStep(st)
}

func sameBuf(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func (st *IOState) start(op ioOp, buf []byte) {
	*st = IOState{op: op, buf: buf}
}

func (st *IOState) finish(r IOResult, err error) IOResult {
	st.op, st.buf, st.Need, st.Err, st.last = ioNone, nil, 0, err, r
	return r
}

func (e *MaskEvent) ioStep(st *IOState) IOResult {
	for st.Done < len(st.buf) {
		var n int
		var err error
		if st.op == ioWrite {
			n, _, err = e.Write(st.buf[st.Done:])
		} else {
			n, _, err = e.Read(st.buf[st.Done:])
		}
		switch {
		case sys.WouldBlock(err):
			st.Need = FDRead
			if st.op == ioWrite {
				st.Need = FDWrite
			}
			st.last = IOPending
			return IOPending
		case err == io.EOF && st.Done > 0:
			return st.finish(IOFailed, io.ErrUnexpectedEOF)
		case err != nil:
			return st.finish(IOFailed, err)
		case n == 0:
			return st.finish(IOFailed, io.ErrShortWrite) // write(2) took nothing and said nothing
		}
		st.Done += n
	}
	return st.finish(IODone, nil)
}

// LineState buffers the input of ReadUntil between calls: bytes read past
// the end of one record wait here for the next call, and a partial record
// waits here for the rest, so nothing is lost or read twice. While it
// holds no input it holds no buffer either: ReadUntil gives it back to a
// pool (shared with tsocket.Reader) when the fd has nothing more. The zero
// value is ready to use. Use one LineState per fd, from one goroutine at a
// time.
type LineState struct {
	// MaxRecord is the longest record, delimiter included, ReadUntil
	// accepts; 0 means DefaultMaxRecord. The buffer never grows past it
	// (or 4 KiB if that is more).
	MaxRecord int

	buf   record.Buffer // shared with tsocket.Reader
	reads int           // read calls made, for tests
}

// Buffered returns the input read from the fd but not yet returned as a
// record. A protocol that switches from records to counted reads (a header
// line, then a body of known length) takes the start of the body from here
// and then calls Discard. The slice is valid until the next call on st.
func (st *LineState) Buffered() []byte { return st.buf.Buffered() }

// Discard drops the first n buffered bytes (all of them if n is larger) and
// returns how many it dropped.
func (st *LineState) Discard(n int) int { return st.buf.Discard(n) }

func (st *LineState) maxRecord() int {
	if st.MaxRecord <= 0 {
		return DefaultMaxRecord
	}
	return st.MaxRecord
}

// ReadUntil returns the next record from e's fd: the bytes up to and
// including the first delim. Records already buffered in st are returned
// one per call without reading the fd again; otherwise it reads what has
// arrived, keeping in st whatever follows the record. While the record is
// incomplete it returns nil, FDRead and unix.EAGAIN: return FDRead from
// the MaskFunc and call again when called. Call it until it returns
// unix.EAGAIN before asking for FDRead: records already in st are not in
// the socket, so readiness will never report them.
//
// The record is a slice of st's buffer, valid until the next call on st;
// copy it to keep it. The peer closing between records is io.EOF, in the
// middle of one io.ErrUnexpectedEOF (the partial record stays in
// Buffered). A record longer than st.MaxRecord fails with an error wrapping
// ErrRecordTooLong as soon as MaxRecord bytes hold no delimiter; the fd
// stays usable, as later calls skip the rest of the record, up to and
// including its delimiter. Read errors are returned as Read returns them.
func (e *MaskEvent) ReadUntil(delim []byte, st *LineState) ([]byte, Flags, error) {
	if len(delim) == 0 {
		return nil, 0, fmt.Errorf("tevent: ReadUntil(%d): empty delimiter: %w", e.fd, syscall.EINVAL)
	}
	limit := st.maxRecord()
	for {
		switch rec, res := st.buf.Next(delim, limit); res {
		case record.Found:
			return rec, 0, nil
		case record.TooLong:
			return nil, 0, fmt.Errorf("tevent: ReadUntil(%d): record over %d bytes: %w", e.fd, limit, ErrRecordTooLong)
		}
		n, need, err := e.Read(st.buf.Free(limit))
		st.reads++
		if err != nil {
			// About to wait (or done): a buffer holding nothing goes
			// back to the pool, so that an idle fd holds none.
			st.buf.Release()
			if err == io.EOF {
				err = st.buf.EOF()
			}
			return nil, need, err
		}
		st.buf.Added(n)
	}
}
