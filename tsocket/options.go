package tsocket

import (
	"fmt"
	"syscall"

	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// ConnectOption configures ConnectSend.
type ConnectOption func(*connectConfig)

type connectConfig struct {
	bufs socketBuffers
}

// ListenBuffers sets the kernel's receive and send buffer sizes of the
// listening socket (SO_RCVBUF, SO_SNDBUF) before listen(2); every
// connection accepted from it inherits them. They must be set before,
// not on the accepted stream with SetReadBuffer: TCP announces its window
// scale in the handshake, from the receive buffer it has then, so a
// buffer grown later cannot be offered past the window agreed. (Linux
// does not pass a unix listener's sizes on to the streams it accepts:
// AcceptSend sets them on each.) 0 leaves the system's default; a size
// below 0 makes Listen fail with EINVAL.
//
// The kernel rounds the sizes (Linux doubles them for its bookkeeping and
// caps them at net.core.rmem_max and wmem_max), and on Linux a socket
// whose size was set no longer has it tuned automatically: set them for
// links whose bandwidth-delay product the defaults do not cover, not by
// habit.
func ListenBuffers(rcv, snd int) ListenOption {
	return func(c *listenConfig) { c.bufs = socketBuffers{rcv: rcv, snd: snd} }
}

// ConnectBuffers sets the receive and send buffer sizes of the socket
// ConnectSend makes before connect(2), for the window scale as with
// [ListenBuffers], with the same rules: 0 leaves the default, a size
// below 0 fails the connect with EINVAL.
func ConnectBuffers(rcv, snd int) ConnectOption {
	return func(c *connectConfig) { c.bufs = socketBuffers{rcv: rcv, snd: snd} }
}

// socketBuffers are the buffer sizes to set on a new socket; 0 leaves
// the system's.
type socketBuffers struct{ rcv, snd int }

// set sets them on fd, receive buffer first.
func (b socketBuffers) set(fd int) error {
	for _, o := range [...]struct {
		name string
		opt  int
		n    int
	}{{"SO_RCVBUF", unix.SO_RCVBUF, b.rcv}, {"SO_SNDBUF", unix.SO_SNDBUF, b.snd}} {
		switch {
		case o.n < 0:
			return fmt.Errorf("tsocket: %s of %d bytes: %w", o.name, o.n, syscall.EINVAL)
		case o.n == 0:
			continue
		}
		if err := sys.SetsockoptInt(fd, unix.SOL_SOCKET, o.opt, o.n); err != nil {
			return sysErr("setsockopt", err)
		}
	}
	return nil
}
