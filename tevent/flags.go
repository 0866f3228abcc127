package tevent

import "strings"

// Flags select which conditions an fd event waits for, and which of them a
// handler is being called for. A handler is only ever called with a subset
// of the flags its event asks for.
type Flags uint16

const (
	// FDRead asks to be called when the fd is readable. A peer that hung up
	// or an fd in error also counts as readable: the read returns the EOF or
	// the error.
	FDRead Flags = 1 << iota
	// FDWrite asks to be called when the fd is writable. A peer that hung
	// up or an fd in error also counts as writable: the write returns the
	// error.
	FDWrite
	// FDError asks to be called when the fd is in error, the peer hung up,
	// or the peer shut down its sending side, without reading or writing.
	FDError

	allFlags = FDRead | FDWrite | FDError
)

// String returns the flags as "READ|WRITE|ERROR" (or "0").
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	var parts []string
	for _, x := range []struct {
		f Flags
		s string
	}{{FDRead, "READ"}, {FDWrite, "WRITE"}, {FDError, "ERROR"}} {
		if f&x.f != 0 {
			parts = append(parts, x.s)
			f &^= x.f
		}
	}
	if f != 0 {
		parts = append(parts, "0x"+strings.ToUpper(hex(uint16(f))))
	}
	return strings.Join(parts, "|")
}

func hex(v uint16) string {
	const digits = "0123456789abcdef"
	var b [4]byte
	i := len(b)
	for {
		i--
		b[i] = digits[v&0xf]
		v >>= 4
		if v == 0 {
			return string(b[i:])
		}
	}
}
