package tlsio

import (
	"net"
	"net/netip"

	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// Addrs returns fd's local and peer addresses as net.Addr, for a Shim on a
// descriptor that has no stream around it (tevent's MaskEvent.StartTLS).
// crypto/tls asks for them (a client with no ServerName keys its session
// cache by the peer's address); one it cannot learn is an empty TCPAddr.
func Addrs(fd int) (local, remote net.Addr) {
	local, remote = &net.TCPAddr{}, &net.TCPAddr{}
	if sa, err := sys.Getsockname(fd); err == nil {
		local = netAddr(sa)
	}
	if sa, err := sys.Getpeername(fd); err == nil {
		remote = netAddr(sa)
	}
	return local, remote
}

func netAddr(sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)))
	case *unix.SockaddrInet6:
		return net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)))
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: a.Name, Net: "unix"}
	}
	return &net.TCPAddr{}
}
