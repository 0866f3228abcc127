package tsocket

import (
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// transport is what a Stream's read and write engines move bytes through:
// the stream's own socket (plainSocket) or, for a TLS stream, TLS over
// another stream. The engines make no I/O call of their own, so what lies
// under a stream is the transport's business alone.
//
// Each method returns the bytes moved and an error. unix.EAGAIN, bare,
// means not now: the engine waits until the descriptor reports the flags
// readWait (or writeWait) returns, then calls again. Any other error is
// final and names its cause (an *os.SyscallError around the errno for a
// socket). A read of 0 bytes with no error is the end of the stream. The
// methods run on the loop goroutine and never block.
type transport interface {
	// read reads into b (len(b) > 0).
	read(b []byte) (n int, err error)
	// readv reads into iov, from off bytes into iov[0] on. want is what
	// it asked for, which may be less than the vector holds (a socket
	// takes IOV_MAX buffers a call): n < want means nothing more was
	// there.
	readv(iov [][]byte, off int) (n, want int, err error)
	// write writes from b (len(b) > 0).
	write(b []byte) (n int, err error)
	// writev writes from iov, from off bytes into iov[0] on; want is as
	// for readv.
	writev(iov [][]byte, off int) (n, want int, err error)
	// readWait and writeWait are the descriptor flags to wait for after
	// a read or a write said EAGAIN. A socket waits for readability to
	// read and writability to write; TLS may need to write to get on
	// with a read, or read to get on with a write.
	readWait() tevent.Flags
	writeWait() tevent.Flags
	// buffered reports whether input may be held above the descriptor,
	// where no readiness report announces it: the engine then reads
	// without waiting for the descriptor.
	buffered() bool
	// flush writes output held above the descriptor and reports whether
	// none is left; a write is done only once it is. false means wait
	// for writeWait.
	flush() (bool, error)
}

// plainSocket is a stream's own non-blocking descriptor as its transport:
// read(2), readv(2), send(2) and sendmsg(2), with EINTR retried here and
// writes that never raise SIGPIPE (internal/sys). It is one pointer, so the
// interface holds it without an allocation; the iovec array for
// multi-buffer calls is the stream's (streamExtra).
type plainSocket struct{ s *Stream }

func (p plainSocket) read(b []byte) (int, error) { return retry("read", sys.Read, p.s.reg.fd, b) }

func (p plainSocket) write(b []byte) (int, error) { return retry("send", sys.Send, p.s.reg.fd, b) }

func (p plainSocket) readv(iov [][]byte, off int) (n, want int, err error) {
	return p.vectored("readv", sys.Readv, iov, off)
}

func (p plainSocket) writev(iov [][]byte, off int) (n, want int, err error) {
	return p.vectored("sendmsg", sys.Sendmsg, iov, off)
}

// vectored makes call, readv or sendmsg, with iov from off on in the
// stream's iovec array.
func (p plainSocket) vectored(name string, call func(int, []unix.Iovec) (int, error), iov [][]byte, off int) (n, want int, err error) {
	x := p.s.extra()
	x.vec, want = iovecs(x.vec, iov, 0, off)
	n, err = retry(name, call, p.s.reg.fd, x.vec)
	clear(x.vec) // do not keep the caller's buffers alive
	return n, want, err
}

// retry makes call on fd until no signal interrupts it, and names it in
// the error it ends with: the EINTR rule of sys.go in one place for all
// four calls.
func retry[B any](name string, call func(int, B) (int, error), fd int, b B) (int, error) {
	for {
		n, err := call(fd, b)
		if !sys.Interrupted(err) {
			return n, ioErr(name, err)
		}
	}
}

func (plainSocket) readWait() tevent.Flags  { return tevent.FDRead }
func (plainSocket) writeWait() tevent.Flags { return tevent.FDWrite }
func (plainSocket) buffered() bool          { return false }
func (plainSocket) flush() (bool, error)    { return true, nil }

// ioErr names the call in err, leaving EAGAIN bare: to the engines it is
// no failure, only a reason to wait.
func ioErr(call string, err error) error {
	if err == nil || sys.WouldBlock(err) {
		return err
	}
	return sysErr(call, err)
}
