package resp

import (
	"bytes"
	"strconv"
	"strings"
)

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
