package tsocket

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Address is a socket address: an internet address with a port ([*InetAddr])
// or a unix domain socket path ([*UnixAddr]). Every Address is a net.Addr;
// Network returns "ip" for internet addresses (the same address serves TCP
// and UDP, the socket decides) and "unix" for unix ones. String returns the
// form ParseAddress reads back: "ipv4:127.0.0.1:80", "ipv6:[::1]:80",
// "unix:/path". [InetAddressFrom] and [InetAddr.AddrPort] convert to and
// from netip.AddrPort.
//
// Addresses are immutable values, safe to share between goroutines. Only
// this package implements Address.
type Address interface {
	net.Addr
	// Family returns "ipv4", "ipv6" or "unix".
	Family() string

	sockaddr() (unix.Sockaddr, error)
	domain() int
}

// InetAddr is an IPv4 or IPv6 address with a port.
type InetAddr struct {
	ap netip.AddrPort
}

// UnixAddr is a unix domain socket path. The empty path is the address of
// an unbound (unnamed) socket, as recvfrom reports it; a path starting with
// '@' names a Linux abstract socket.
type UnixAddr struct {
	path string
}

// sunPathMax is the longest path a sockaddr_un holds with its terminating
// NUL.
const sunPathMax = len(unix.RawSockaddrUnix{}.Path) - 1

// InetAddress returns the internet address ip:port (tsocket_address_inet_from_strings).
// family is "ip" (either family, decided by ip), "ipv4" or "ipv6". ip must be
// numeric: host names are rejected, never resolved. An empty ip is the
// unspecified address: 0.0.0.0 for "ip" and "ipv4", :: for "ipv6". An IPv6
// zone ("fe80::1%eth0") names an interface by name or index.
func InetAddress(family, ip string, port int) (Address, error) {
	a, err := inetAddress(family, ip, port)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func inetAddress(family, ip string, port int) (*InetAddr, error) {
	bad := func(reason string) (*InetAddr, error) {
		return nil, &AddressError{Func: "InetAddress", Input: family + " " + ip + " " + strconv.Itoa(port), Reason: reason}
	}
	if port < 0 || port > 65535 {
		return bad("port out of range 0..65535")
	}
	var a netip.Addr
	switch {
	case ip == "" && family == "ipv6":
		a = netip.IPv6Unspecified()
	case ip == "" && (family == "ip" || family == "ipv4"):
		a = netip.IPv4Unspecified()
	case ip == "":
		return bad("unknown family (want ip, ipv4 or ipv6)")
	default:
		var err error
		a, err = netip.ParseAddr(ip)
		if err != nil {
			return bad("not a numeric IP address (host names are not resolved)")
		}
	}
	switch family {
	case "ip":
	case "ipv4":
		if !a.Is4() {
			return bad("not an IPv4 address")
		}
	case "ipv6":
		if !a.Is6() {
			return bad("not an IPv6 address")
		}
	default:
		return bad("unknown family (want ip, ipv4 or ipv6)")
	}
	return &InetAddr{ap: netip.AddrPortFrom(a, uint16(port))}, nil
}

// InetAddressFrom returns ap as an Address, for code that already holds a
// netip.AddrPort (from netip.ParseAddrPort, net.TCPAddr.AddrPort, ...);
// [InetAddr.AddrPort] goes back. It returns nil if ap's address is not
// valid (the zero AddrPort), which every socket function refuses as an
// invalid address. An IPv4-mapped IPv6 address stays IPv6, as with
// InetAddress.
func InetAddressFrom(ap netip.AddrPort) Address {
	if !ap.Addr().IsValid() {
		return nil
	}
	return &InetAddr{ap: ap}
}

// UnixAddress returns the unix domain socket address path
// (tsocket_address_unix_from_path). The path must fit sun_path with its
// terminating NUL (107 bytes on Linux) and must not contain NUL.
func UnixAddress(path string) (Address, error) {
	a, err := unixAddress(path)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func unixAddress(path string) (*UnixAddr, error) {
	if len(path) > sunPathMax {
		return nil, &AddressError{Func: "UnixAddress", Input: path, Reason: "path longer than sun_path (" + strconv.Itoa(sunPathMax) + " bytes)"}
	}
	if strings.IndexByte(path, 0) >= 0 {
		return nil, &AddressError{Func: "UnixAddress", Input: path, Reason: "path contains NUL"}
	}
	return &UnixAddr{path: path}, nil
}

// ParseAddress parses what Address.String returns: "ipv4:ADDR:PORT",
// "ipv6:[ADDR]:PORT", "ip:ADDR:PORT" or "ip:[ADDR]:PORT" (either family),
// and "unix:PATH"; and, as net and netip write them, "ADDR:PORT" for IPv4
// and "[ADDR]:PORT" for IPv6. Addresses must be numeric (host names are
// not resolved) and the port is required.
func ParseAddress(s string) (Address, error) {
	bad := func(reason string) (Address, error) {
		return nil, &AddressError{Func: "ParseAddress", Input: s, Reason: reason}
	}
	family, rest, ok := strings.Cut(s, ":")
	switch {
	case strings.HasPrefix(s, "["):
		family, rest = "ip", s // [IPv6]:PORT
	case !ok:
		return bad("want FAMILY:ADDRESS (ipv4:, ipv6:, ip:, unix:), IPv4:PORT or [IPv6]:PORT")
	case family == "unix":
		a, err := unixAddress(rest)
		if err != nil {
			return bad(err.(*AddressError).Reason)
		}
		return a, nil
	case family == "ip", family == "ipv4", family == "ipv6":
	case strings.IndexByte(rest, ':') < 0:
		family, rest = "ip", s // IPv4:PORT, or a host name
	case isIPv6(s[:strings.LastIndexByte(s, ':')]) || isIPv6(s):
		return bad("an IPv6 address must be written in brackets: [ADDR]:PORT")
	default:
		return bad("unknown family " + strconv.Quote(family) + " (want ipv4, ipv6, ip or unix)")
	}
	var host, port string
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad("missing ']'")
		}
		host, port = rest[1:end], rest[end+1:]
		if !strings.HasPrefix(port, ":") {
			return bad("want ':PORT' after ']'")
		}
		port = port[1:]
		if !isIPv6(host) {
			return bad("brackets must hold a numeric IPv6 address")
		}
	} else {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			return bad("missing ':PORT'")
		}
		host, port = rest[:i], rest[i+1:]
		if strings.IndexByte(host, ':') >= 0 {
			return bad("an IPv6 address must be written in brackets")
		}
		if host == "" {
			return bad("missing address")
		}
	}
	p, ok := parsePort(port)
	if !ok {
		return bad("port must be a decimal number 0..65535")
	}
	a, err := inetAddress(family, host, p)
	if err != nil {
		return bad(err.(*AddressError).Reason)
	}
	return a, nil
}

// isIPv6 reports whether s is a numeric IPv6 address.
func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= 65535
}

// Network returns "ip".
func (a *InetAddr) Network() string { return "ip" }

// Family returns "ipv4" or "ipv6".
func (a *InetAddr) Family() string {
	if a.ap.Addr().Is4() {
		return "ipv4"
	}
	return "ipv6"
}

// String returns "ipv4:ADDR:PORT" or "ipv6:[ADDR]:PORT".
func (a *InetAddr) String() string {
	if a.ap.Addr().Is4() {
		return "ipv4:" + a.ap.Addr().String() + ":" + strconv.Itoa(int(a.ap.Port()))
	}
	return "ipv6:" + a.ap.String()
}

// IP returns the address without the port, as text.
func (a *InetAddr) IP() string { return a.ap.Addr().String() }

// Port returns the port.
func (a *InetAddr) Port() int { return int(a.ap.Port()) }

// AddrPort returns the address as a netip.AddrPort.
func (a *InetAddr) AddrPort() netip.AddrPort { return a.ap }

func (a *InetAddr) domain() int {
	if a.ap.Addr().Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func (a *InetAddr) sockaddr() (unix.Sockaddr, error) {
	ip := a.ap.Addr()
	if ip.Is4() {
		return &unix.SockaddrInet4{Port: int(a.ap.Port()), Addr: ip.As4()}, nil
	}
	sa := &unix.SockaddrInet6{Port: int(a.ap.Port()), Addr: ip.As16()}
	if z := ip.Zone(); z != "" {
		if n, err := strconv.Atoi(z); err == nil {
			sa.ZoneId = uint32(n)
		} else {
			ifi, err := net.InterfaceByName(z)
			if err != nil {
				return nil, &AddressError{Func: "InetAddress", Input: a.String(), Reason: "unknown zone " + strconv.Quote(z)}
			}
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa, nil
}

// Network returns "unix".
func (a *UnixAddr) Network() string { return "unix" }

// Family returns "unix".
func (a *UnixAddr) Family() string { return "unix" }

// String returns "unix:PATH".
func (a *UnixAddr) String() string { return "unix:" + a.path }

// Path returns the socket path ("" for an unnamed socket).
func (a *UnixAddr) Path() string { return a.path }

func (a *UnixAddr) domain() int { return unix.AF_UNIX }

func (a *UnixAddr) sockaddr() (unix.Sockaddr, error) {
	return &unix.SockaddrUnix{Name: a.path}, nil
}

// fromSockaddr converts what the kernel reported; nil stays nil.
func fromSockaddr(sa unix.Sockaddr) Address {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &InetAddr{ap: netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))}
	case *unix.SockaddrInet6:
		ip := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			ip = ip.WithZone(strconv.Itoa(int(sa.ZoneId)))
		}
		return &InetAddr{ap: netip.AddrPortFrom(ip, uint16(sa.Port))}
	case *unix.SockaddrUnix:
		return &UnixAddr{path: sa.Name}
	}
	return nil
}
