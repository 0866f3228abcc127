package tsocket

import (
	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// SetAccept replaces the listener's accept (accept4, or accept and fcntl
// on darwin) for a test and returns a function restoring it.
func SetAccept(fn func(fd int) (int, unix.Sockaddr, error)) (restore func()) {
	old := sysAccept
	sysAccept = fn
	return func() { sysAccept = old }
}

// RealAccept is the real accept.
var RealAccept = sys.Accept

// HasEvent reports whether s holds an fd event in its loop.
func (s *Stream) HasEvent() bool { return s.reg.want != 0 }

// HasEvent reports whether l holds an fd event in its loop.
func (l *Listener) HasEvent() bool { return l.reg.want != 0 }

// HoldsReadBuffer reports whether s references a ReadSomeSend or
// ReadSomeFuncSend buffer.
func (s *Stream) HoldsReadBuffer() bool { return s.rd.one[0] != nil }

// HoldsReadVector reports whether s references the vector of a read.
func (s *Stream) HoldsReadVector() bool { return s.rd.v.iov != nil }

// HoldsReadvFunc reports whether s references a ReadvSomeFuncSend's
// request or get function.
func (s *Stream) HoldsReadvFunc() bool {
	return s.x != nil && (s.x.readv.get != nil || s.x.readv.req != nil)
}

// ReadChain is how many reads a stream makes per readiness report when
// each fills its buffer.
const ReadChain = readChain

// AcceptChain is how many connections a listener accepts per readiness
// report when each accept's callback starts the next.
const AcceptChain = acceptChain

// CountDryReads counts the reads on s that find the socket empty, until
// the function it returns is called; that reports the count.
func CountDryReads(s *Stream) (stop func() int) {
	n := 0
	dryRead = func(x *Stream) {
		if x == s {
			n++
		}
	}
	return func() int { dryRead = nil; return n }
}

// FillProbe is how often a stream chains after an exact fill that it
// expects to find the socket empty.
const FillProbe = fillProbe
