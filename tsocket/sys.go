package tsocket

import (
	"github.com/gotevent/gotevent/internal/rawio"
	"golang.org/x/sys/unix"
)

// The syscalls this package makes, held in variables so tests can inject
// faults (export_test.go). Each is the x/sys/unix call of the same name, or
// a thin wrapper of one.
var (
	sysSocket     = unix.Socket
	sysSocketpair = unix.Socketpair
	sysBind       = unix.Bind
	sysConnect    = unix.Connect
	sysListen     = unix.Listen
	sysAccept4    = unix.Accept4
	sysClose      = unix.Close
	sysRead       = rawio.Read
	sysReadv      = rawio.Readv
	sysSend       = send
	sysSendmsg    = sendmsg
	sysRecvfrom   = unix.Recvfrom
	sysSendto     = unix.Sendto
)

// maxIovecs is IOV_MAX on Linux: the most buffers one readv or sendmsg
// takes; longer vectors go over several calls.
const maxIovecs = 1024

// A stream's I/O calls go through package rawio (RawSyscall), since its
// descriptors are always non-blocking. read(2) and send(2) serve a vector
// with one buffer left, cheaper in the kernel than a readv or sendmsg of
// one iovec and with no array to build; the stream keeps its own iovec
// array for the others, where unix.Readv and unix.SendmsgBuffers would
// allocate one per call. Writes pass MSG_NOSIGNAL, so a peer that has gone
// away yields EPIPE and never raises SIGPIPE.

func send(fd int, b []byte) (int, error) { return rawio.Send(fd, b, unix.MSG_NOSIGNAL) }

func sendmsg(fd int, iov []unix.Iovec) (int, error) {
	return rawio.Sendmsg(fd, iov, unix.MSG_NOSIGNAL)
}

// The retry rules of non-blocking I/O live here and nowhere else: EINTR
// means try again at once, EAGAIN means wait for readiness.

// interrupted reports whether a call should simply be repeated.
func interrupted(err error) bool { return err == unix.EINTR }

// wouldBlock reports whether a call found the socket not ready.
func wouldBlock(err error) bool { return err == unix.EAGAIN || err == unix.EWOULDBLOCK }

// iovecs fills dst with the non-empty parts of iov from buffer idx, byte
// off on, at most maxIovecs of them, and returns them with their byte count.
func iovecs(dst []unix.Iovec, iov [][]byte, idx, off int) ([]unix.Iovec, int) {
	dst = dst[:0]
	total := 0
	for i := idx; i < len(iov) && len(dst) < maxIovecs; i++ {
		b := iov[i]
		if i == idx {
			b = b[off:]
		}
		if len(b) == 0 {
			continue
		}
		var v unix.Iovec
		v.Base = &b[0]
		v.SetLen(len(b))
		dst = append(dst, v)
		total += len(b)
	}
	return dst, total
}

// advance moves the position (idx, off) in iov on by n bytes and past any
// empty buffers that follow; idx == len(iov) means the vector is complete.
func advance(iov [][]byte, idx, off, n int) (int, int) {
	for idx < len(iov) {
		rest := len(iov[idx]) - off
		if n < rest {
			return idx, off + n
		}
		n -= rest
		idx++
		off = 0
	}
	return idx, off
}

// socketError returns the error pending on fd (SO_ERROR).
func socketError(fd int) error {
	v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if v != 0 {
		return unix.Errno(v)
	}
	return nil
}
