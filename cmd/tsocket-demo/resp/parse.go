package resp

import (
	"bytes"
	"strconv"
)

// Caps on what one RESP client may make the server hold. A request that
// breaks one gets an error reply and the connection is closed.
const (
	// MaxBulkLen is the largest bulk string accepted by default: Redis's
	// proto-max-bulk-len, 512 MiB. [Parser.MaxBulk] and the server's
	// Config.MaxBulk change it.
	MaxBulkLen = 512 << 20
	// MaxArgs is the most arguments one command may have.
	MaxArgs = 1024
	// MaxInlineLen is the longest inline command line.
	MaxInlineLen = 64 << 10
	// MaxBuffer is the most unparsed input a connection's read buffer
	// holds. The server keeps a multibulk command there only while it is
	// small: a longer one is taken apart argument by argument, and a
	// large bulk string is read into a buffer of its own, so no command
	// needs more than an inline line and a few reads of room.
	MaxBuffer = 256 << 10
)

// A Parser splits RESP input into commands. Its methods are pure
// functions over bytes, so they are fuzzed and tested without sockets.
// The zero Parser accepts bulk strings of up to [MaxBulkLen] bytes.
type Parser struct {
	// MaxBulk is the longest bulk string accepted; 0 or less means
	// MaxBulkLen. A longer one is "invalid bulk length", as in Redis.
	MaxBulk int64
}

func (p Parser) maxBulk() int64 {
	if p.MaxBulk <= 0 {
		return MaxBulkLen
	}
	return p.MaxBulk
}

// Parse is Parser{}.Parse: one command with the default caps.
func Parse(buf []byte, args [][]byte) ([][]byte, int, error) {
	return Parser{}.Parse(buf, args)
}

// Parse parses one command from the front of buf, either a multibulk
// array (*N\r\n$L\r\n...) or an inline command (words separated by spaces,
// ending in \n or \r\n). It returns the arguments, which alias buf, and how
// many bytes the command used. With an incomplete command it returns
// (nil, 0, nil): read more and call again, or take the command apart with
// [Parser.Start]. An empty inline line is skipped and returns (nil, n,
// nil) with n > 0. Input breaking a cap, or malformed, gives an error
// wrapping ErrProtocol, as soon as the bytes that break it are there.
func (p Parser) Parse(buf []byte, args [][]byte) ([][]byte, int, error) {
	args = args[:0]
	if len(buf) == 0 {
		return nil, 0, nil
	}
	if buf[0] != '*' {
		return parseInline(buf, args)
	}
	n, pos, err := arrayHeader(buf)
	if err != nil || pos == 0 {
		return nil, 0, err
	}
	if n == 0 {
		return nil, pos, nil // *0 and *-1 are empty commands, skipped
	}
	part, err := p.bulks(buf, pos, n, args)
	if err != nil || part.Left > 0 {
		return nil, 0, err
	}
	return part.Args, part.Used, nil
}

// Partial is what a buffer holds of a multibulk command that it does not
// hold whole.
type Partial struct {
	// Args are the arguments complete so far, aliasing the buffer.
	Args [][]byte
	// Used is how many bytes of the buffer they take, with the array's
	// header line when the parse started there.
	Used int
	// Left is how many arguments are still to come after Args.
	Left int
	// Next is the length of the next bulk string when its header line is
	// buffered (after Used, NextHeader bytes long), or -1.
	Next       int64
	NextHeader int
}

// Start parses as much of the multibulk command at the front of buf as is
// there, for a command too long to wait for whole. ok is false while the
// array's header line is incomplete, or when buf starts with an empty
// array (Parse skips those). Errors are Parse's.
func (p Parser) Start(buf []byte, args [][]byte) (part Partial, ok bool, err error) {
	if len(buf) == 0 || buf[0] != '*' {
		return Partial{}, false, nil
	}
	n, pos, err := arrayHeader(buf)
	if err != nil || pos == 0 || n == 0 {
		return Partial{}, false, err
	}
	part, err = p.bulks(buf, pos, n, args[:0])
	return part, err == nil, err
}

// More goes on with a command taken apart: it parses up to left bulk
// strings from the front of buf, as Start does after the header.
func (p Parser) More(buf []byte, left int, args [][]byte) (Partial, error) {
	return p.bulks(buf, 0, left, args[:0])
}

// arrayHeader parses "*N\r\n": it returns N (0 for an empty or null
// array) and the position after the line, or pos 0 while it is not
// complete.
func arrayHeader(buf []byte) (n, pos int, err error) {
	line, pos, err := respLine(buf, 0)
	if err != nil || line == nil {
		return 0, 0, err
	}
	v, err := respInt(line[1:])
	if err != nil {
		return 0, 0, protoErr("invalid multibulk length")
	}
	if v > MaxArgs {
		return 0, 0, protoErr("too many arguments (%d > %d)", v, MaxArgs)
	}
	return int(max(v, 0)), pos, nil
}

// bulks parses up to left bulk strings from buf[pos:], appending each
// complete one to args.
func (p Parser) bulks(buf []byte, pos, left int, args [][]byte) (Partial, error) {
	limit := p.maxBulk()
	part := Partial{Args: args, Used: pos, Left: left, Next: -1}
	for part.Left > 0 {
		line, next, err := respLine(buf, part.Used)
		if err != nil {
			return Partial{}, err
		}
		if line == nil {
			return part, nil
		}
		if line[0] != '$' {
			return Partial{}, protoErr("expected '$', got '%c'", line[0])
		}
		l, err := respInt(line[1:])
		if err != nil || l < 0 || l > limit {
			return Partial{}, protoErr("invalid bulk length")
		}
		// Compared in int64, so that a length near the cap cannot
		// overflow an int on a 32-bit system.
		if int64(len(buf)-next) < l+2 {
			part.Next, part.NextHeader = l, next-part.Used
			return part, nil
		}
		end := next + int(l)
		if buf[end] != '\r' || buf[end+1] != '\n' {
			return Partial{}, protoErr("bulk string not followed by CRLF")
		}
		part.Args = append(part.Args, buf[next:end])
		part.Used = end + 2
		part.Left--
	}
	return part, nil
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
	// FieldsSeq, not Fields: a line of MaxInlineLen bytes holds up to 32 768
	// words, and Fields would build a slice of them all before the MaxArgs
	// check below could refuse the command.
	for f := range bytes.FieldsSeq(line) {
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
