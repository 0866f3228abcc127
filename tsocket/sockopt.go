package tsocket

import (
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// Socket options, as net.TCPConn offers them. Each returns nil or an
// *OpError with Op "setsockopt" around the errno (an option the socket's
// kind does not have, TCP_NODELAY on a unix stream say, is EOPNOTSUPP or
// ENOPROTOOPT from the kernel). They are called on the loop goroutine and
// take effect at once, requests in flight included.

// SetNoDelay turns Nagle's algorithm off (true, the default for TCP
// streams made by ConnectSend and AcceptSend) or on (TCP_NODELAY).
func (s *Stream) SetNoDelay(noDelay bool) error {
	return s.setsockopt("TCP_NODELAY", unix.IPPROTO_TCP, unix.TCP_NODELAY, boolInt(noDelay))
}

// SetKeepAlive turns TCP keep-alive probes on or off (SO_KEEPALIVE). With
// on and idle > 0, probes start after idle without traffic and repeat
// every idle (TCP_KEEPIDLE and TCP_KEEPINTVL, in whole seconds, rounded
// up), as net.TCPConn.SetKeepAlivePeriod does; idle 0 keeps the system's
// defaults.
func (s *Stream) SetKeepAlive(on bool, idle time.Duration) error {
	if err := s.setsockopt("SO_KEEPALIVE", unix.SOL_SOCKET, unix.SO_KEEPALIVE, boolInt(on)); err != nil || !on || idle <= 0 {
		return err
	}
	secs := int((idle + time.Second - 1) / time.Second)
	if err := s.setsockopt("TCP_KEEPIDLE", unix.IPPROTO_TCP, sys.TCPKeepIdle, secs); err != nil {
		return err
	}
	return s.setsockopt("TCP_KEEPINTVL", unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs)
}

// SetLinger sets what Close does with data not yet sent (SO_LINGER), as
// net.TCPConn.SetLinger: sec < 0 (the default) sends it in the background;
// sec == 0 discards it and resets the connection, so a kicked client
// learns at once that it was dropped; sec > 0 lets the kernel try for sec
// seconds in the background (the loop never blocks in Close: the socket is
// non-blocking).
func (s *Stream) SetLinger(sec int) error {
	l := unix.Linger{}
	if sec >= 0 {
		l.Onoff, l.Linger = 1, int32(sec)
	}
	if err := s.usable("setsockopt"); err != nil {
		return err
	}
	if err := sys.SetLinger(s.reg.fd, &l); err != nil {
		return s.opErr("setsockopt", sysErr("setsockopt", err))
	}
	return nil
}

// SetReadBuffer sets the size of the kernel's receive buffer (SO_RCVBUF).
// The kernel may round it (Linux doubles it for its own bookkeeping).
func (s *Stream) SetReadBuffer(n int) error {
	return s.setsockopt("SO_RCVBUF", unix.SOL_SOCKET, unix.SO_RCVBUF, n)
}

// SetWriteBuffer sets the size of the kernel's send buffer (SO_SNDBUF).
func (s *Stream) SetWriteBuffer(n int) error {
	return s.setsockopt("SO_SNDBUF", unix.SOL_SOCKET, unix.SO_SNDBUF, n)
}

func (s *Stream) setsockopt(name string, level, opt, v int) error {
	if err := s.usable("setsockopt"); err != nil {
		return err
	}
	if err := sys.SetsockoptInt(s.reg.fd, level, opt, v); err != nil {
		return s.opErr("setsockopt", sysErr("setsockopt", err))
	}
	return nil
}

// usable fails an option set on a closed stream.
func (s *Stream) usable(op string) error {
	if s.closed {
		return s.opErr(op, errClosed)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
