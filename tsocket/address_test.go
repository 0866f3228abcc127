package tsocket_test

import (
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"

	"github.com/gotevent/gotevent/tsocket"
)

// In the style of Samba's test_bsd_addr: every good input and its string
// form, every bad input rejected with an AddressError.
func TestInetAddress(t *testing.T) {
	tests := []struct {
		family, ip string
		port       int
		want       string // "" means an error is expected
	}{
		{"ipv4", "127.0.0.1", 80, "ipv4:127.0.0.1:80"},
		{"ip", "127.0.0.1", 0, "ipv4:127.0.0.1:0"},
		{"ip", "", 65535, "ipv4:0.0.0.0:65535"},
		{"ipv4", "", 1, "ipv4:0.0.0.0:1"},
		{"ipv6", "", 1, "ipv6:[::]:1"},
		{"ipv6", "::1", 445, "ipv6:[::1]:445"},
		{"ip", "2001:db8::1", 80, "ipv6:[2001:db8::1]:80"},
		{"ipv6", "fe80::1%1", 80, "ipv6:[fe80::1%1]:80"},
		{"ipv4", "localhost", 80, ""},        // a host name
		{"ip", "example.org", 80, ""},        // a host name
		{"ipv4", "::1", 80, ""},              // wrong family
		{"ipv6", "127.0.0.1", 80, ""},        // wrong family
		{"ipv4", "::ffff:127.0.0.1", 80, ""}, // mapped is IPv6
		{"ipv4", "127.0.0.1", -1, ""},        // port out of range
		{"ipv4", "127.0.0.1", 65536, ""},     // port out of range
		{"inet", "127.0.0.1", 80, ""},        // unknown family
		{"unix", "", 80, ""},                 // unknown family
		{"ipv4", "1.2.3", 80, ""},            // not an address
		{"ipv4", "1.2.3.4.5", 80, ""},
	}
	for _, tt := range tests {
		a, err := tsocket.InetAddress(tt.family, tt.ip, tt.port)
		if tt.want == "" {
			var ae *tsocket.AddressError
			if !errors.As(err, &ae) || !errors.Is(err, tsocket.ErrInvalidAddress) || !errors.Is(err, syscall.EINVAL) {
				t.Errorf("InetAddress(%q, %q, %d) = %v, %v; want an AddressError", tt.family, tt.ip, tt.port, a, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("InetAddress(%q, %q, %d): %v", tt.family, tt.ip, tt.port, err)
			continue
		}
		if got := a.String(); got != tt.want {
			t.Errorf("InetAddress(%q, %q, %d) = %s, want %s", tt.family, tt.ip, tt.port, got, tt.want)
		}
		if a.Network() != "ip" {
			t.Errorf("Network() = %q, want ip", a.Network())
		}
		back, err := tsocket.ParseAddress(a.String())
		if err != nil || back.String() != a.String() {
			t.Errorf("ParseAddress(%q) = %v, %v", a.String(), back, err)
		}
	}
}

func TestUnixAddress(t *testing.T) {
	max := strings.Repeat("a", 107)
	for _, p := range []string{"/tmp/sock", "rel/sock", "", "@abstract", max} {
		a, err := tsocket.UnixAddress(p)
		if err != nil {
			t.Errorf("UnixAddress(%q): %v", p, err)
			continue
		}
		if a.String() != "unix:"+p || a.Network() != "unix" || a.Family() != "unix" {
			t.Errorf("UnixAddress(%q) = %s (%s, %s)", p, a, a.Network(), a.Family())
		}
		if got := a.(*tsocket.UnixAddr).Path(); got != p {
			t.Errorf("Path() = %q, want %q", got, p)
		}
	}
	for _, p := range []string{max + "b", "a\x00b"} {
		if a, err := tsocket.UnixAddress(p); !errors.Is(err, tsocket.ErrInvalidAddress) {
			t.Errorf("UnixAddress(%q) = %v, %v; want an error", p, a, err)
		}
	}
}

func TestParseAddress(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error is expected
		family   string
	}{
		{"ipv4:1.2.3.4:80", "ipv4:1.2.3.4:80", "ipv4"},
		{"ipv6:[2001::1]:80", "ipv6:[2001::1]:80", "ipv6"},
		{"ip:[::1]:0", "ipv6:[::1]:0", "ipv6"},
		{"ip:10.0.0.1:65535", "ipv4:10.0.0.1:65535", "ipv4"},
		{"unix:/path", "unix:/path", "unix"},
		{"unix:", "unix:", "unix"},
		{"ipv4:1.2.3.4:080", "ipv4:1.2.3.4:80", "ipv4"},
		{"ipv4:localhost:80", "", ""},                 // host name
		{"ipv6:[localhost]:80", "", ""},               // host name
		{"ipv4:[::1]:80", "", ""},                     // wrong family
		{"ipv6:1.2.3.4:80", "", ""},                   // wrong family
		{"ipv6:[1.2.3.4]:80", "", ""},                 // not IPv6 in brackets
		{"ipv4:1.2.3.4:65536", "", ""},                // port out of range
		{"ipv4:1.2.3.4:-1", "", ""},                   // port out of range
		{"ipv4:1.2.3.4:+80", "", ""},                  // not decimal
		{"ipv4:1.2.3.4:", "", ""},                     // missing port
		{"ipv4:1.2.3.4", "", ""},                      // missing port
		{"ipv4::80", "", ""},                          // missing address
		{"ipv6:[::1]x:80", "", ""},                    // garbage after bracket
		{"ipv6:[::1]:80x", "", ""},                    // garbage after port
		{"ipv6:[::1]80", "", ""},                      // no colon after bracket
		{"ipv6:[::1:80", "", ""},                      // unclosed bracket
		{"ipv6:::1:80", "", ""},                       // IPv6 without brackets
		{"tcp:1.2.3.4:80", "", ""},                    // unknown family
		{"", "", ""},                                  // nothing
		{"unix:/" + strings.Repeat("x", 107), "", ""}, // longer than sun_path
		// As net and netip write them, without the family.
		{"1.2.3.4:80", "ipv4:1.2.3.4:80", "ipv4"},
		{"[2001:db8::1]:443", "ipv6:[2001:db8::1]:443", "ipv6"},
		{"[::ffff:1.2.3.4]:80", "ipv6:[::ffff:1.2.3.4]:80", "ipv6"},
		{"[fe80::1%2]:1", "ipv6:[fe80::1%2]:1", "ipv6"},
		{"1.2.3.4", "", ""},        // no port
		{"1.2.3.4:", "", ""},       // no port
		{"1.2.3.4:99999", "", ""},  // port out of range
		{"localhost:80", "", ""},   // host name
		{"[localhost]:80", "", ""}, // host name
		{"[1.2.3.4]:80", "", ""},   // IPv4 in brackets
		{"[::1]", "", ""},          // no port
		{"[::1]:", "", ""},         // no port
		{"::1:80", "", ""},         // IPv6 without brackets
		{"2001:db8::1:80", "", ""}, // IPv6 without brackets
		{"80", "", ""},             // a port alone
		{":80", "", ""},            // no address
		{"[::1]:80:80", "", ""},    // garbage after port
	}
	for _, tt := range tests {
		a, err := tsocket.ParseAddress(tt.in)
		if tt.want == "" {
			var ae *tsocket.AddressError
			if !errors.As(err, &ae) || ae.Func != "ParseAddress" || ae.Input != tt.in {
				t.Errorf("ParseAddress(%q) = %v, %v; want an AddressError", tt.in, a, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", tt.in, err)
			continue
		}
		if a.String() != tt.want || a.Family() != tt.family {
			t.Errorf("ParseAddress(%q) = %s (%s), want %s (%s)", tt.in, a, a.Family(), tt.want, tt.family)
		}
	}
}

// The rejections say what is wrong, naming the form that was meant.
func TestParseAddressReasons(t *testing.T) {
	for in, want := range map[string]string{
		"::1:80":         "brackets",
		"2001:db8::1":    "brackets",
		"localhost:80":   "host names are not resolved",
		"tcp:1.2.3.4:80": "unknown family",
		"1.2.3.4":        "IPv4:PORT or [IPv6]:PORT",
		"[1.2.3.4]:80":   "IPv6",
		"1.2.3.4:65536":  "0..65535",
	} {
		_, err := tsocket.ParseAddress(in)
		var ae *tsocket.AddressError
		if !errors.As(err, &ae) || !strings.Contains(ae.Reason, want) {
			t.Errorf("ParseAddress(%q) = %v; want a reason mentioning %q", in, err, want)
		}
	}
}

// InetAddressFrom and AddrPort convert to and from netip.AddrPort without
// loss, and agree with ParseAddress and InetAddress.
func TestInetAddressFrom(t *testing.T) {
	for _, s := range []string{"127.0.0.1:80", "0.0.0.0:0", "[::1]:65535", "[::ffff:10.0.0.1]:1", "[fe80::1%3]:22"} {
		ap := netip.MustParseAddrPort(s)
		a := tsocket.InetAddressFrom(ap)
		if a == nil {
			t.Fatalf("InetAddressFrom(%v) = nil", ap)
		}
		if got := a.(*tsocket.InetAddr).AddrPort(); got != ap {
			t.Errorf("InetAddressFrom(%v).AddrPort() = %v", ap, got)
		}
		p, err := tsocket.ParseAddress(s)
		if err != nil || p.String() != a.String() {
			t.Errorf("ParseAddress(%q) = %v, %v; InetAddressFrom gives %v", s, p, err, a)
		}
		i, err := tsocket.InetAddress("ip", ap.Addr().String(), int(ap.Port()))
		if err != nil || i.String() != a.String() {
			t.Errorf("InetAddress(ip, %s, %d) = %v, %v; InetAddressFrom gives %v", ap.Addr(), ap.Port(), i, err, a)
		}
	}
	if a := tsocket.InetAddressFrom(netip.AddrPort{}); a != nil {
		t.Errorf("InetAddressFrom of the zero AddrPort = %v, want nil", a)
	}
}

func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{
		"ipv4:1.2.3.4:80", "ipv6:[2001::1]:80", "unix:/path", "ip:[::1]:0",
		"ipv6:[::1]x:80", "ipv4:1.2.3.4:99999", "ipv6:[fe80::1%eth0]:1", "unix:",
		// The forms without a family, and near misses.
		"1.2.3.4:80", "[::1]:80", "[fe80::1%eth0]:1", "::1:80", "[1.2.3.4]:80", "localhost:80",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := tsocket.ParseAddress(s)
		if err != nil {
			if !errors.Is(err, tsocket.ErrInvalidAddress) {
				t.Fatalf("ParseAddress(%q): error %v does not wrap ErrInvalidAddress", s, err)
			}
			return
		}
		// What parses prints in a form that parses to the same address.
		b, err := tsocket.ParseAddress(a.String())
		if err != nil {
			t.Fatalf("ParseAddress(%q) = %s, which does not parse: %v", s, a, err)
		}
		if b.String() != a.String() {
			t.Fatalf("round trip %q -> %s -> %s", s, a, b)
		}
		ia, ok := a.(*tsocket.InetAddr)
		if !ok {
			return
		}
		if c := tsocket.InetAddressFrom(ia.AddrPort()); c == nil || c.String() != a.String() {
			t.Fatalf("InetAddressFrom(%v) = %v, want %s", ia.AddrPort(), c, a)
		}
		// Without a family prefix, s is what netip reads too.
		if f, _, _ := strings.Cut(s, ":"); f != "ip" && f != "ipv4" && f != "ipv6" {
			if ap, err := netip.ParseAddrPort(s); err != nil || ap != ia.AddrPort() {
				t.Fatalf("ParseAddress(%q) = %v, but netip.ParseAddrPort says %v, %v", s, a, ap, err)
			}
		}
	})
}
