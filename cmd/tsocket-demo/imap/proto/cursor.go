package proto

import (
	"strconv"
	"strings"
)

// Cursor walks a command's arguments, decoding them as the command's
// grammar says. Each method consumes one argument or returns a BAD
// [*Error] (without a tag: the session adds it).
type Cursor struct {
	args []Arg
	i    int
}

// NewCursor returns a cursor over args (a list's members, for instance).
func NewCursor(args []Arg) *Cursor { return &Cursor{args: args} }

// Done reports whether every argument has been consumed.
func (c *Cursor) Done() bool { return c.i >= len(c.args) }

// Peek returns the next argument without consuming it.
func (c *Cursor) Peek() (Arg, bool) {
	if c.Done() {
		return Arg{}, false
	}
	return c.args[c.i], true
}

// Next consumes any argument.
func (c *Cursor) Next() (Arg, error) {
	if c.Done() {
		return Arg{}, syntaxf("Missing argument")
	}
	c.i++
	return c.args[c.i-1], nil
}

// End fails if arguments remain.
func (c *Cursor) End() error {
	if !c.Done() {
		return syntaxf("Unexpected extra arguments")
	}
	return nil
}

// Atom consumes an atom.
func (c *Cursor) Atom() (string, error) {
	a, err := c.Next()
	if err != nil {
		return "", err
	}
	if a.Kind != AtomArg {
		return "", syntaxf("Expected an atom")
	}
	return a.Str, nil
}

// AString consumes an astring: an atom, a quoted string or a literal.
func (c *Cursor) AString() (string, error) {
	return c.text(func(a Arg) bool { return a.Kind != ListArg })
}

// String consumes a quoted string or a literal.
func (c *Cursor) String() (string, error) {
	return c.text(func(a Arg) bool { return a.Kind == QuotedArg || a.Kind == LiteralArg })
}

// text consumes an argument that valid accepts, as a string; an atom with
// list wildcards or a section is no string of any kind.
func (c *Cursor) text(valid func(Arg) bool) (string, error) {
	a, err := c.Next()
	if err != nil {
		return "", err
	}
	if !valid(a) {
		return "", syntaxf("Expected a string")
	}
	if a.Kind == AtomArg && strings.ContainsAny(a.Str, "%*[") {
		return "", syntaxf("Invalid characters in atom")
	}
	return a.Text(), nil
}

// Mailbox consumes a mailbox name; INBOX in any case is "INBOX".
func (c *Cursor) Mailbox() (string, error) {
	s, err := c.AString()
	if err != nil {
		return "", err
	}
	if strings.EqualFold(s, "INBOX") {
		return "INBOX", nil
	}
	return s, nil
}

// Pattern consumes a LIST mailbox pattern (list-mailbox, wildcards
// allowed).
func (c *Cursor) Pattern() (string, error) {
	a, err := c.Next()
	if err != nil {
		return "", err
	}
	if a.Kind == ListArg {
		return "", syntaxf("Expected a mailbox pattern")
	}
	return a.Text(), nil
}

// List consumes a parenthesised list and returns a cursor over it.
func (c *Cursor) List() (*Cursor, error) {
	a, err := c.Next()
	if err != nil {
		return nil, err
	}
	if a.Kind != ListArg {
		return nil, syntaxf("Expected a list")
	}
	return NewCursor(a.List), nil
}

// Number consumes a number (RFC 3501: 32 bits, unsigned).
func (c *Cursor) Number() (uint32, error) {
	s, err := c.Atom()
	if err != nil {
		return 0, err
	}
	return parseNumber(s)
}

func parseNumber(s string) (uint32, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, syntaxf("Expected a number")
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, syntaxf("Invalid number")
	}
	return uint32(n), nil
}

// SeqSet consumes a sequence set (or a UID set: the grammar is one).
func (c *Cursor) SeqSet() (SeqSet, error) {
	s, err := c.Atom()
	if err != nil {
		return nil, err
	}
	return ParseSeqSet(s)
}

// FlagList consumes a parenthesised flag list.
func (c *Cursor) FlagList() ([]string, error) {
	l, err := c.List()
	if err != nil {
		return nil, err
	}
	return l.flags()
}

// StoreFlags consumes STORE's flags: a flag list, or flags separated by
// spaces up to the end (store-att-flags).
func (c *Cursor) StoreFlags() ([]string, error) {
	if a, ok := c.Peek(); ok && a.Kind == ListArg {
		f, err := c.FlagList()
		if err != nil {
			return nil, err
		}
		return f, c.End()
	}
	return c.flags()
}

func (c *Cursor) flags() ([]string, error) {
	var out []string
	for !c.Done() {
		s, err := c.Atom()
		if err != nil {
			return nil, syntaxf("Invalid flag")
		}
		if !IsFlag(s) {
			return nil, syntaxf("Invalid flag %s", s)
		}
		out = append(out, s)
	}
	return out, nil
}

// IsFlag reports whether s is a flag as RFC 3501 spells one: "\" atom
// (system flags and extensions) or an atom (a keyword).
func IsFlag(s string) bool {
	s = strings.TrimPrefix(s, `\`)
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAtomChar(c) || strings.IndexByte(`%*\]`, c) >= 0 || c >= 0x80 || c == '[' {
			return false
		}
	}
	return true
}
