package tsocket

import (
	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// The system calls of this package go through package sys, which keeps
// what differs between systems in one place. The one that tests fail on
// purpose is held in a variable (export_test.go replaces it); the rest are
// called directly.
var sysAccept = sys.Accept

// maxIovecs is IOV_MAX on Linux, darwin and the BSDs: the most buffers one
// readv or sendmsg takes; longer vectors go over several calls.
const maxIovecs = 1024

// A stream's I/O calls are sys.Read, sys.Readv, sys.Send and sys.Sendmsg
// (RawSyscall on Linux), since its descriptors are always non-blocking.
// read(2) and send(2) serve a vector with one buffer left, cheaper in the
// kernel than a readv or sendmsg of one iovec and with no array to build;
// the stream keeps its own iovec array for the others, where unix.Readv
// and unix.SendmsgBuffers would allocate one per call. Writes never raise
// SIGPIPE (MSG_NOSIGNAL, or SO_NOSIGPIPE on darwin): a peer that has gone
// away yields EPIPE. The retry rules are sys.Interrupted (EINTR: make the
// call again) and sys.WouldBlock (EAGAIN: wait for readiness).

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
