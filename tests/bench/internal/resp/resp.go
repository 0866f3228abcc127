// Package resp is a copy of the RESP subset of the gotevent demo
// (internal/demo: ParseRESP and Store), so that the benchmark's Go net RESP
// server answers exactly as the demo's tsocket one does. The demo's
// packages are internal to the root module and cannot be imported from
// this one; keep this copy in step with internal/demo/resp.go and
// internal/demo/store.go.
package resp

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Caps on what one RESP client may make the server hold. A request that
// breaks one gets an error reply and the connection is closed, so memory per
// connection is bounded by MaxRESPBuffer.
const (
	// MaxBulkLen is the largest bulk string accepted (Redis allows 512 MB;
	// this demo keeps 1 MiB).
	MaxBulkLen = 1 << 20
	// MaxArgs is the most arguments one command may have.
	MaxArgs = 1024
	// MaxInlineLen is the longest inline command line.
	MaxInlineLen = 64 << 10
	// MaxRESPBuffer is the most unparsed input held for one connection:
	// MaxArgs bulk headers plus MaxBulkLen of payload fit in it.
	MaxRESPBuffer = MaxBulkLen + 64<<10
)

// ErrProtocol is wrapped by every RESP parse error; the server answers with
// "-ERR Protocol error: ..." and closes the connection, as Redis does.
var ErrProtocol = errors.New("Protocol error")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// ParseRESP parses one command from the front of buf, either a multibulk
// array (*N\r\n$L\r\n...) or an inline command (words separated by spaces,
// ending in \n or \r\n). It returns the arguments, which alias buf, and how
// many bytes the command used. With an incomplete command it returns
// (nil, 0, nil): read more and call again. An empty inline line is skipped
// and returns (nil, n, nil) with n > 0. Input breaking a cap, or malformed,
// gives an error wrapping ErrProtocol.
func ParseRESP(buf []byte, args [][]byte) ([][]byte, int, error) {
	args = args[:0]
	if len(buf) == 0 {
		return nil, 0, nil
	}
	if buf[0] != '*' {
		return parseInline(buf, args)
	}
	line, pos, err := respLine(buf, 0)
	if err != nil || line == nil {
		return nil, 0, err
	}
	n, err := respInt(line[1:])
	if err != nil {
		return nil, 0, protoErr("invalid multibulk length")
	}
	if n > MaxArgs {
		return nil, 0, protoErr("too many arguments (%d > %d)", n, MaxArgs)
	}
	if n <= 0 {
		return nil, pos, nil // *0 and *-1 are empty commands, skipped
	}
	for i := int64(0); i < n; i++ {
		line, next, err := respLine(buf, pos)
		if err != nil || line == nil {
			return nil, 0, err
		}
		if line[0] != '$' {
			return nil, 0, protoErr("expected '$', got '%c'", line[0])
		}
		l, err := respInt(line[1:])
		if err != nil || l < 0 {
			return nil, 0, protoErr("invalid bulk length")
		}
		if l > MaxBulkLen {
			return nil, 0, protoErr("bulk length %d over the %d cap", l, MaxBulkLen)
		}
		end := next + int(l)
		if end+2 > len(buf) {
			return nil, 0, nil
		}
		if buf[end] != '\r' || buf[end+1] != '\n' {
			return nil, 0, protoErr("bulk string not followed by CRLF")
		}
		args = append(args, buf[next:end])
		pos = end + 2
	}
	return args, pos, nil
}

// respLine returns the header line starting at pos (without CRLF) and the
// position after it, or nil when the line is not complete yet.
func respLine(buf []byte, pos int) ([]byte, int, error) {
	i := bytes.IndexByte(buf[pos:], '\n')
	if i < 0 {
		if len(buf)-pos > 64 {
			return nil, 0, protoErr("header line too long")
		}
		return nil, 0, nil
	}
	if i == 0 || buf[pos+i-1] != '\r' {
		return nil, 0, protoErr("header line not ending in CRLF")
	}
	line := buf[pos : pos+i-1]
	if len(line) < 2 {
		return nil, 0, protoErr("empty header line")
	}
	return line, pos + i + 1, nil
}

func respInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, ErrProtocol
	}
	return strconv.ParseInt(string(b), 10, 64)
}

func parseInline(buf []byte, args [][]byte) ([][]byte, int, error) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		if len(buf) > MaxInlineLen {
			return nil, 0, protoErr("inline command longer than %d bytes", MaxInlineLen)
		}
		return nil, 0, nil
	}
	if i > MaxInlineLen {
		return nil, 0, protoErr("inline command longer than %d bytes", MaxInlineLen)
	}
	line := buf[:i]
	line = bytes.TrimSuffix(line, []byte{'\r'})
	for _, f := range bytes.Fields(line) {
		if len(args) == MaxArgs {
			return nil, 0, protoErr("too many arguments")
		}
		args = append(args, f)
	}
	if len(args) == 0 {
		return nil, i + 1, nil
	}
	return args, i + 1, nil
}

// Store is the key space of the RESP server. It belongs to one loop: each
// loop of a multi-loop server has its own (documented in the demo: keys are
// per loop, as in a sharded deployment without a router).
type Store struct {
	m map[string][]byte
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{m: make(map[string][]byte)} }

// Len returns the number of keys.
func (s *Store) Len() int { return len(s.m) }

// Exec runs one command and appends its RESP reply to out. quit reports a
// QUIT, after which the server closes the connection once the reply is out.
func (s *Store) Exec(args [][]byte, out []byte) (reply []byte, quit bool) {
	if len(args) == 0 {
		return out, false
	}
	cmd := args[0]
	switch {
	case eq(cmd, "PING"):
		switch len(args) {
		case 1:
			return append(out, "+PONG\r\n"...), false
		case 2:
			return appendBulk(out, args[1]), false
		}
	case eq(cmd, "ECHO"):
		if len(args) == 2 {
			return appendBulk(out, args[1]), false
		}
	case eq(cmd, "SET"):
		if len(args) == 3 {
			// The key and value alias the read buffer: copy them.
			s.m[string(args[1])] = bytes.Clone(args[2])
			return append(out, "+OK\r\n"...), false
		}
	case eq(cmd, "GET"):
		if len(args) == 2 {
			v, ok := s.m[string(args[1])]
			if !ok {
				return append(out, "$-1\r\n"...), false
			}
			return appendBulk(out, v), false
		}
	case eq(cmd, "DEL"), eq(cmd, "EXISTS"):
		if len(args) >= 2 {
			n := 0
			for _, k := range args[1:] {
				if _, ok := s.m[string(k)]; ok {
					n++
					if eq(cmd, "DEL") {
						delete(s.m, string(k))
					}
				}
			}
			return appendInt(out, int64(n)), false
		}
	case eq(cmd, "INCR"):
		if len(args) == 2 {
			v := int64(0)
			if old, ok := s.m[string(args[1])]; ok {
				n, err := strconv.ParseInt(string(old), 10, 64)
				if err != nil {
					return append(out, "-ERR value is not an integer or out of range\r\n"...), false
				}
				v = n
			}
			if v == 1<<63-1 {
				return append(out, "-ERR increment or decrement would overflow\r\n"...), false
			}
			v++
			s.m[string(args[1])] = strconv.AppendInt(nil, v, 10)
			return appendInt(out, v), false
		}
	case eq(cmd, "COMMAND"):
		// redis-cli asks for COMMAND DOCS at start; an empty array is a
		// valid answer that makes it fall back to plain behaviour.
		return append(out, "*0\r\n"...), false
	case eq(cmd, "CONFIG"):
		// redis-benchmark reads "save" and "appendonly" with CONFIG GET.
		if len(args) >= 3 && eq(args[1], "GET") {
			out = append(out, "*2\r\n"...)
			out = appendBulk(out, args[2])
			return appendBulk(out, nil), false
		}
		return append(out, "+OK\r\n"...), false
	case eq(cmd, "QUIT"):
		return append(out, "+OK\r\n"...), true
	default:
		return appendErr(out, "ERR unknown command '"+printable(cmd)+"'"), false
	}
	return appendErr(out, "ERR wrong number of arguments for '"+strings.ToLower(printable(cmd))+"' command"), false
}

func eq(b []byte, s string) bool {
	return len(b) == len(s) && strings.EqualFold(string(b), s)
}

func printable(b []byte) string {
	if len(b) > 64 {
		b = b[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, string(b))
}

func appendBulk(out, v []byte) []byte {
	if v == nil {
		return append(out, "$-1\r\n"...)
	}
	out = append(out, '$')
	out = strconv.AppendInt(out, int64(len(v)), 10)
	out = append(out, '\r', '\n')
	out = append(out, v...)
	return append(out, '\r', '\n')
}

func appendInt(out []byte, v int64) []byte {
	out = append(out, ':')
	out = strconv.AppendInt(out, v, 10)
	return append(out, '\r', '\n')
}

func appendErr(out []byte, msg string) []byte {
	out = append(out, '-')
	out = append(out, msg...)
	return append(out, '\r', '\n')
}

// AppendRESPError appends err as a RESP error reply.
func AppendRESPError(out []byte, err error) []byte {
	return appendErr(out, "ERR "+err.Error())
}
