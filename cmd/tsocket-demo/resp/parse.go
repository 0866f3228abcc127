package resp

import (
	"bytes"
	"strconv"
)

// Caps on what one RESP client may make the server hold. A request that
// breaks one gets an error reply and the connection is closed, so memory per
// connection is bounded by MaxBuffer.
const (
	// MaxBulkLen is the largest bulk string accepted (Redis allows 512 MB;
	// this demo keeps 1 MiB).
	MaxBulkLen = 1 << 20
	// MaxArgs is the most arguments one command may have.
	MaxArgs = 1024
	// MaxInlineLen is the longest inline command line.
	MaxInlineLen = 64 << 10
	// MaxBuffer is the most unparsed input held for one connection:
	// MaxArgs bulk headers plus MaxBulkLen of payload fit in it.
	MaxBuffer = MaxBulkLen + 64<<10
)

// Parse parses one command from the front of buf, either a multibulk
// array (*N\r\n$L\r\n...) or an inline command (words separated by spaces,
// ending in \n or \r\n). It returns the arguments, which alias buf, and how
// many bytes the command used. With an incomplete command it returns
// (nil, 0, nil): read more and call again. An empty inline line is skipped
// and returns (nil, n, nil) with n > 0. Input breaking a cap, or malformed,
// gives an error wrapping ErrProtocol.
func Parse(buf []byte, args [][]byte) ([][]byte, int, error) {
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
