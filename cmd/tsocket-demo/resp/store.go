package resp

import (
	"bytes"
	"strconv"
	"strings"
)

// Store is one loop's part of the key space: the keys that hash to that
// loop (all of them, with one loop). It belongs to that loop's goroutine.
//
// A value, once stored, is never changed in place: SET and INCR store a
// new slice. A GET reply is written from the stored slice without a copy,
// and the slice a SET replaced may still be queued in some client's
// Writer, or on its way to another loop. A Store of a [Keyspace] reuses
// the buffers of large values it let go of once nothing can read them
// (see values.go); one from NewStore leaves them to the collector.
type Store struct {
	m    map[string][]byte
	pool *valuePool // nil: no reuse
}

// NewStore returns an empty store.
func NewStore() *Store { return &Store{m: make(map[string][]byte)} }

// Len returns the number of keys.
func (s *Store) Len() int { return len(s.m) }

// Exec runs one command and appends its RESP reply to out, copying what it
// keeps of args (which may alias a read buffer). quit reports a QUIT,
// after which the server closes the connection once the reply is out.
// It is the whole server of a single-loop key space, for callers that
// hold every key in one Store.
func (s *Store) Exec(args [][]byte, out []byte) (reply []byte, quit bool) {
	return s.exec(args, out, false)
}

// ExecOwned is Exec for arguments that are the caller's to give away,
// each in a buffer of its own that nothing else references: a SET keeps
// its value as it is, without a copy, and the caller must not touch the
// arguments afterwards. It is for a server that reads a large value
// straight into its own buffer.
func (s *Store) ExecOwned(args [][]byte, out []byte) (reply []byte, quit bool) {
	return s.exec(args, out, true)
}

func (s *Store) exec(args [][]byte, out []byte, owned bool) ([]byte, bool) {
	if len(args) == 0 {
		return out, false
	}
	cmd := lookup(args[0])
	if op, ok := cmd.keyOp(len(args)); ok {
		return s.do(op, args[1:], owned).append(out), false
	}
	return keyless(cmd, args, out)
}

// op is a command on keys: what a loop runs for a key it owns.
type op uint8

const (
	opGet op = iota
	opSet
	opIncr
	opDel
	opExists
)

// multi reports whether the op takes any number of keys, each of which
// may belong to another loop.
func (o op) multi() bool { return o == opDel || o == opExists }

// result is the outcome of an op, turned into a reply by the connection:
// values cross loops this way, not as reply bytes, so that a large value
// is never copied on its way to the client.
type result struct {
	kind resultKind
	val  []byte // resBulk: the stored value (immutable), nil for none
	n    int64  // resInt
	msg  string // resErr: the message, without the leading '-'
}

type resultKind uint8

const (
	resOK resultKind = iota
	resBulk
	resInt
	resErr
)

// append appends r as a reply, copying a value.
func (r result) append(out []byte) []byte {
	switch r.kind {
	case resBulk:
		return appendBulk(out, r.val)
	case resInt:
		return appendInt(out, r.n)
	case resErr:
		return appendErr(out, r.msg)
	}
	return append(out, "+OK\r\n"...)
}

// runCmd is a command of a run carried to the loop that owns its keys: n
// is the length of its bytes in the read buffer.
type runCmd struct {
	o    op
	keys [][]byte
	n    int
}

// doRun runs the commands of run in order, and stops before one once the
// replies so far take more than budget bytes (a negative budget is none);
// the first always runs.
func (s *Store) doRun(run []runCmd, budget int) []result {
	out := make([]result, 0, len(run))
	size := 0
	for i, rc := range run {
		if i > 0 && budget >= 0 && size > budget {
			break
		}
		r := s.do(rc.o, rc.keys, true)
		if r.kind == resBulk {
			s.pool.share(r.val) // read on the caller's loop from now on
		}
		size += r.size()
		out = append(out, r)
	}
	return out
}

// size is about how many bytes r takes as a reply: exactly, but for the
// digits of an integer.
func (r result) size() int {
	switch r.kind {
	case resBulk:
		return len(r.val) + 16
	case resInt:
		return 22
	case resErr:
		return len(r.msg) + 3
	}
	return 5
}

// do runs o on a, the command's arguments after its name. owned says that
// a is the caller's to give away (taken apart from the read buffer, or
// copied to cross loops); otherwise what is kept is copied.
func (s *Store) do(o op, a [][]byte, owned bool) result {
	switch o {
	case opGet:
		return result{kind: resBulk, val: s.m[string(a[0])]}
	case opSet:
		v := a[1]
		if !owned {
			v = s.clone(v)
		}
		if v == nil {
			v = []byte{} // stored, not missing
		}
		s.put(a[0], v)
		return result{kind: resOK}
	case opIncr:
		v := int64(0)
		if old, ok := s.m[string(a[0])]; ok {
			n, err := strconv.ParseInt(string(old), 10, 64)
			if err != nil {
				return result{kind: resErr, msg: "ERR value is not an integer or out of range"}
			}
			v = n
		}
		if v == 1<<63-1 {
			return result{kind: resErr, msg: "ERR increment or decrement would overflow"}
		}
		v++
		s.put(a[0], strconv.AppendInt(nil, v, 10))
		return result{kind: resInt, n: v}
	}
	n := 0
	for _, k := range a {
		if old, ok := s.m[string(k)]; ok {
			n++
			if o == opDel {
				delete(s.m, string(k))
				s.pool.release(old)
			}
		}
	}
	return result{kind: resInt, n: int64(n)}
}

// put stores v under key, and lets go of the value it replaces.
func (s *Store) put(key, v []byte) {
	old, ok := s.m[string(key)]
	s.m[string(key)] = v
	if ok {
		s.pool.release(old)
	}
}

// clone copies v into a buffer of the store's own, reused if one fits.
func (s *Store) clone(v []byte) []byte {
	if b := s.pool.get(len(v)); b != nil {
		copy(b, v)
		return b
	}
	return bytes.Clone(v)
}

// command is a command name, looked up once per command.
type command uint8

const (
	cmdUnknown command = iota
	cmdPing
	cmdEcho
	cmdSet
	cmdGet
	cmdDel
	cmdExists
	cmdIncr
	cmdCommand
	cmdConfig
	cmdQuit
)

// lookup finds the command name, in any case, without allocating.
func lookup(name []byte) command {
	switch len(name) {
	case 3:
		switch {
		case upperIs(name, "SET"):
			return cmdSet
		case upperIs(name, "GET"):
			return cmdGet
		case upperIs(name, "DEL"):
			return cmdDel
		}
	case 4:
		switch {
		case upperIs(name, "PING"):
			return cmdPing
		case upperIs(name, "ECHO"):
			return cmdEcho
		case upperIs(name, "INCR"):
			return cmdIncr
		case upperIs(name, "QUIT"):
			return cmdQuit
		}
	case 6:
		switch {
		case upperIs(name, "EXISTS"):
			return cmdExists
		case upperIs(name, "CONFIG"):
			return cmdConfig
		}
	case 7:
		if upperIs(name, "COMMAND") {
			return cmdCommand
		}
	}
	return cmdUnknown
}

// upperIs reports whether b is the upper-case ASCII word s in any case.
// Clearing bit 5 maps exactly the ASCII letters of either case onto the
// upper-case ones, and s holds letters only.
func upperIs(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if b[i]&^0x20 != s[i] {
			return false
		}
	}
	return true
}

// keyOp returns the op of a command on keys with nargs arguments (its
// name included), or false for a command that touches no key or has the
// wrong number of arguments: keyless answers those.
func (c command) keyOp(nargs int) (op, bool) {
	switch {
	case c == cmdGet && nargs == 2:
		return opGet, true
	case c == cmdSet && nargs == 3:
		return opSet, true
	case c == cmdIncr && nargs == 2:
		return opIncr, true
	case c == cmdDel && nargs >= 2:
		return opDel, true
	case c == cmdExists && nargs >= 2:
		return opExists, true
	}
	return 0, false
}

// keyless appends the reply to a command that touches no key, or to a
// command on keys with the wrong number of arguments. quit reports a QUIT.
func keyless(cmd command, args [][]byte, out []byte) (reply []byte, quit bool) {
	switch cmd {
	case cmdPing:
		switch len(args) {
		case 1:
			return append(out, "+PONG\r\n"...), false
		case 2:
			return appendBulk(out, args[1]), false
		}
	case cmdEcho:
		if len(args) == 2 {
			return appendBulk(out, args[1]), false
		}
	case cmdCommand:
		// redis-cli asks for COMMAND DOCS at start; an empty array is a
		// valid answer that makes it fall back to plain behaviour.
		return append(out, "*0\r\n"...), false
	case cmdConfig:
		// redis-benchmark reads "save" and "appendonly" with CONFIG GET.
		if len(args) >= 3 && upperIs(args[1], "GET") {
			out = append(out, "*2\r\n"...)
			out = appendBulk(out, args[2])
			return appendBulk(out, nil), false
		}
		return append(out, "+OK\r\n"...), false
	case cmdQuit:
		return append(out, "+OK\r\n"...), true
	case cmdUnknown:
		return appendErr(out, "ERR unknown command '"+printable(args[0])+"'"), false
	}
	return appendErr(out, "ERR wrong number of arguments for '"+strings.ToLower(printable(args[0]))+"' command"), false
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
