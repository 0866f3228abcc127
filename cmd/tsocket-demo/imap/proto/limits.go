package proto

// Limits bound what one command may make the server hold. Each is checked
// where the memory is committed: a line before it is scanned, a literal
// when it is announced (before the connection reads it), arguments and
// nesting as they are added. Zero fields take the defaults of
// [DefaultLimits].
type Limits struct {
	// MaxLine is the longest line, CRLF included (Dovecot's
	// imap_max_line_length is 64 KiB). The connection's line reader should
	// use the same number.
	MaxLine int
	// MaxLiteral is the largest literal accepted: it bounds APPEND.
	MaxLiteral int64
	// MaxCommand is the most bytes one command may span, over all its lines
	// and literals.
	MaxCommand int64
	// MaxArgs is the most arguments one command may have, counting every
	// member of every list.
	MaxArgs int
	// MaxDepth is the deepest nesting of parenthesised lists.
	MaxDepth int
}

// DefaultLimits returns the limits used for zero fields.
func DefaultLimits() Limits {
	return Limits{
		MaxLine:    64 << 10,
		MaxLiteral: 32 << 20,
		MaxCommand: 33 << 20,
		MaxArgs:    4096,
		MaxDepth:   16,
	}
}

// withDefaults fills the zero fields.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxLine <= 0 {
		l.MaxLine = d.MaxLine
	}
	if l.MaxLiteral <= 0 {
		l.MaxLiteral = d.MaxLiteral
	}
	if l.MaxCommand <= 0 {
		l.MaxCommand = max(d.MaxCommand, l.MaxLiteral+int64(l.MaxLine))
	}
	if l.MaxArgs <= 0 {
		l.MaxArgs = d.MaxArgs
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	return l
}
