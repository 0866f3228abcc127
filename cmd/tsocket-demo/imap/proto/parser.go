package proto

import (
	"bytes"
	"strings"
)

// Parser turns lines and literals into commands. It holds a command across
// the lines its literals split it into and copies what it keeps, so a line
// may be reused by the caller once Line returns; a literal's buffer is
// kept as the argument itself, without a copy.
//
// A Parser belongs to one connection and is not safe for concurrent use.
type Parser struct {
	lim     Limits
	cmd     *Command
	stack   [][]Arg // stack[0] holds the command's arguments, the rest open lists
	nargs   int
	size    int64
	needSep bool // the last token was an argument: SP or ')' must follow
	lit     Literal
	want    bool // a literal was announced: Literal must come next
	skip    bool // the command failed: drop its remaining lines and literals
}

// NewParser returns a parser with the given limits (zero fields take the
// defaults).
func NewParser(lim Limits) *Parser {
	return &Parser{lim: lim.withDefaults()}
}

// Limits returns the limits in force, defaults filled in.
func (p *Parser) Limits() Limits { return p.lim }

// Reset drops any command in progress (after STARTTLS, or a line the
// connection could not read whole).
func (p *Parser) Reset() {
	p.cmd, p.stack, p.nargs, p.size = nil, nil, 0, 0
	p.needSep, p.want, p.skip = false, false, false
}

// LineTooLong tells the parser the connection dropped a line over
// MaxLine (tsocket's Reader skips it up to its CRLF). It returns the error
// to answer, tagged with the command in progress if there is one, and
// forgets that command.
func (p *Parser) LineTooLong() error {
	e := tooBig("Command line too long")
	e.Tag = p.tagOr()
	p.Reset()
	return e
}

// Line parses one line, which ends in CRLF (or a bare LF). It returns:
//
//   - a complete command;
//   - or a [*Literal] to read next (pass its bytes to [Parser.Literal], then
//     the following line to Line again);
//   - or an [*Error] for a command to reject, possibly with a Literal to
//     discard (a LITERAL+ whose bytes are already coming);
//   - or nothing at all: an empty line, or a line of a failed command.
func (p *Parser) Line(line []byte) (*Command, *Literal, error) {
	if p.want {
		p.Reset()
		return nil, nil, &Error{Tag: "*", Status: "BAD", Text: "Expected literal data", Fatal: true, Err: ErrState}
	}
	if len(line) > p.lim.MaxLine {
		return nil, nil, p.LineTooLong()
	}
	body := trimEOL(line)
	if p.skip {
		return p.skipLine(body)
	}
	if p.cmd == nil {
		if len(body) == 0 {
			return nil, nil, nil
		}
		rest, err := p.start(body)
		if err != nil {
			return p.fail(body, err)
		}
		body = rest
	}
	p.size += int64(len(line))
	if p.size > p.lim.MaxCommand {
		return p.fail(body, tooBig("Command too long"))
	}
	return p.scan(body)
}

// Literal hands over the bytes of the literal the last Line asked for. The
// parser keeps data as the argument (it is not copied); with Discard it
// drops it.
func (p *Parser) Literal(data []byte) error {
	if !p.want || int64(len(data)) != p.lit.Size {
		p.Reset()
		return &Error{Tag: "*", Status: "BAD", Text: "Unexpected literal data", Fatal: true, Err: ErrState}
	}
	p.want = false
	if p.skip {
		return nil
	}
	p.size += int64(len(data))
	if err := p.add(Arg{Kind: LiteralArg, Data: data}); err != nil {
		// The remaining lines of this command still follow: skip them.
		tag := p.tagOr()
		p.Reset()
		p.skip = true
		err.Tag = tag
		return err
	}
	return nil
}

func trimEOL(line []byte) []byte {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	return bytes.TrimSuffix(line, []byte{'\r'})
}

func (p *Parser) tagOr() string {
	if p.cmd != nil {
		return p.cmd.Tag
	}
	return "*"
}

// start reads "tag SP command-name" and returns the rest of the line.
func (p *Parser) start(b []byte) ([]byte, *Error) {
	sp := bytes.IndexByte(b, ' ')
	if sp < 0 {
		sp = len(b)
	}
	tag := b[:sp]
	if len(tag) == 0 || !isTag(tag) {
		return nil, syntaxf("Invalid tag")
	}
	p.cmd = &Command{Tag: string(tag)}
	p.stack = [][]Arg{nil}
	if sp == len(b) {
		return nil, syntaxf("Missing command name")
	}
	b = b[sp+1:]
	n := 0
	for n < len(b) && isAtomChar(b[n]) && b[n] != '[' {
		n++
	}
	if n == 0 || n < len(b) && b[n] != ' ' {
		return nil, syntaxf("Invalid command name")
	}
	p.cmd.Name = strings.ToUpper(string(b[:n]))
	p.needSep = true
	return b[n:], nil
}

// scan reads arguments up to the end of the line or a literal announcement.
func (p *Parser) scan(b []byte) (*Command, *Literal, error) {
	for i := 0; ; {
		if i == len(b) {
			return p.finish(b)
		}
		c := b[i]
		if c == ' ' {
			i++
			p.needSep = false
			continue
		}
		if c == ')' {
			if len(p.stack) == 1 {
				return p.fail(b, syntaxf("Unexpected ')'"))
			}
			top := p.stack[len(p.stack)-1]
			p.stack = p.stack[:len(p.stack)-1]
			p.stack[len(p.stack)-1] = append(p.stack[len(p.stack)-1], Arg{Kind: ListArg, List: top})
			p.needSep = true
			i++
			continue
		}
		if p.needSep {
			return p.fail(b, syntaxf("Missing space between arguments"))
		}
		switch c {
		case '(':
			if len(p.stack) > p.lim.MaxDepth {
				return p.fail(b, tooBig("Too deep nesting of lists"))
			}
			if err := p.count(); err != nil {
				return p.fail(b, err)
			}
			p.stack = append(p.stack, []Arg{})
			i++
		case '"':
			s, n, err := unquote(b[i:])
			if err != nil {
				return p.fail(b, err)
			}
			if err := p.add(Arg{Kind: QuotedArg, Str: s}); err != nil {
				return p.fail(b, err)
			}
			i += n
		case '{':
			size, sync, n, ok := literalSpec(b[i:])
			if !ok || i+n != len(b) {
				return p.fail(b, syntaxf("Invalid literal announcement"))
			}
			return p.announce(b, size, sync)
		default:
			n, err := atomLen(b[i:])
			if err != nil {
				return p.fail(b, err)
			}
			if err := p.add(Arg{Kind: AtomArg, Str: string(b[i : i+n])}); err != nil {
				return p.fail(b, err)
			}
			i += n
		}
	}
}

// finish ends a line that holds no literal announcement.
func (p *Parser) finish(b []byte) (*Command, *Literal, error) {
	if len(p.stack) > 1 {
		return p.fail(b, syntaxf("Missing ')'"))
	}
	cmd := p.cmd
	cmd.Args = p.stack[0]
	p.Reset()
	return cmd, nil, nil
}

// announce asks for a literal, or refuses one over the limits.
func (p *Parser) announce(b []byte, size int64, sync bool) (*Command, *Literal, error) {
	over := size > p.lim.MaxLiteral || p.size+size > p.lim.MaxCommand
	if !over && p.nargs >= p.lim.MaxArgs {
		return p.fail(b, tooBig("Too many arguments"))
	}
	if over {
		e := tooBig("Literal too large")
		e.Tag = p.tagOr()
		p.Reset()
		if sync {
			// RFC 7888 section 4: refuse before the client sends it.
			e.Status = "NO"
		} else {
			// Its bytes are already coming and too many to read and drop.
			e.Fatal = true
		}
		return nil, nil, e
	}
	p.lit = Literal{Size: size, Sync: sync}
	p.want = true
	p.needSep = true
	return nil, &p.lit, nil
}

func (p *Parser) count() *Error {
	p.nargs++
	if p.nargs > p.lim.MaxArgs {
		return tooBig("Too many arguments")
	}
	return nil
}

func (p *Parser) add(a Arg) *Error {
	if err := p.count(); err != nil {
		return err
	}
	top := len(p.stack) - 1
	p.stack[top] = append(p.stack[top], a)
	p.needSep = true
	return nil
}

// fail rejects the command. A line ending in a LITERAL+ announcement has
// that many bytes coming: ask for them to be discarded and skip the rest of
// the command; a synchronizing literal is never sent once the client sees
// the tagged BAD.
func (p *Parser) fail(b []byte, e *Error) (*Command, *Literal, error) {
	e.Tag = p.tagOr()
	p.Reset()
	size, sync, ok := trailingLiteral(b)
	if ok && !sync {
		if size > p.lim.MaxLiteral {
			e.Fatal = true
			return nil, nil, e
		}
		p.skip, p.want = true, true
		p.lit = Literal{Size: size, Discard: true}
		return nil, &p.lit, e
	}
	return nil, nil, e
}

// skipLine drops a line of a failed command.
func (p *Parser) skipLine(b []byte) (*Command, *Literal, error) {
	size, sync, ok := trailingLiteral(b)
	if !ok || sync {
		p.Reset()
		return nil, nil, nil
	}
	if size > p.lim.MaxLiteral {
		p.Reset()
		return nil, nil, &Error{Tag: "*", Status: "BAD", Code: "TOOBIG", Text: "Literal too large", Fatal: true, Err: ErrTooBig}
	}
	p.want = true
	p.lit = Literal{Size: size, Discard: true}
	return nil, &p.lit, nil
}
