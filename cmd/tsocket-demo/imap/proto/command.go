package proto

// Kind says what an [Arg] is.
type Kind uint8

const (
	// AtomArg is an atom as the client sent it: NIL, a flag, a sequence
	// set, a fetch attribute with its section (BODY[HEADER.FIELDS (A)]<0.9>
	// is one atom), a mailbox name or pattern.
	AtomArg Kind = iota + 1
	// QuotedArg is a quoted string, unescaped.
	QuotedArg
	// LiteralArg is a literal's bytes, exactly as the connection read them.
	LiteralArg
	// ListArg is a parenthesised list.
	ListArg
)

// Arg is one argument of a command. Str holds an atom or a quoted string,
// Data a literal, List a list's members.
type Arg struct {
	Kind Kind
	Str  string
	Data []byte
	List []Arg
}

// Text returns an atom, quoted string or literal as a string.
func (a Arg) Text() string {
	if a.Kind == LiteralArg {
		return string(a.Data)
	}
	return a.Str
}

// Command is one complete command. Name is upper-cased; for "UID FETCH"
// Name is "UID" and FETCH is the first argument.
type Command struct {
	Tag  string
	Name string
	Args []Arg
}

// Cursor returns a [Cursor] over the command's arguments.
func (c *Command) Cursor() *Cursor { return &Cursor{args: c.Args} }

// Literal is what [Parser.Line] asks for when a line ends in a literal
// announcement: Size bytes, read whole and given to [Parser.Literal].
type Literal struct {
	Size int64
	// Sync is true for {N}: the server must send a continuation request
	// ("+ Ready") before the client sends the bytes. False for LITERAL+
	// {N+}, whose bytes are already on their way.
	Sync bool
	// Discard is true when the command has already failed (its error was
	// returned with this): read the bytes and drop them, then go on giving
	// lines, which the parser skips to the command's end.
	Discard bool
}
