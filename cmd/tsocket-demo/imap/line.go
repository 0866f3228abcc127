package imap

import (
	"bytes"
	"strings"
)

// MaxLine is the longest command line the IMAP-style server accepts,
// CRLF included; a longer one gets "* BAD line too long" and the connection
// is closed.
const MaxLine = 8 << 10

// Command is one parsed line of the IMAP-style protocol: "tag SP verb
// [SP args]". Verb is upper-cased.
type Command struct {
	Tag  string
	Verb string
	Args string
}

// ParseLine splits one line (without its CRLF or LF) into a Command. A
// line without a tag or a verb gives ok=false, for a "* BAD" reply.
func ParseLine(line []byte) (cmd Command, ok bool) {
	line = bytes.TrimRight(line, "\r")
	tag, rest, found := bytes.Cut(line, []byte{' '})
	if !found || len(tag) == 0 || len(rest) == 0 || !validTag(tag) {
		return Command{}, false
	}
	verb, args, _ := bytes.Cut(rest, []byte{' '})
	if len(verb) == 0 {
		return Command{}, false
	}
	return Command{Tag: string(tag), Verb: strings.ToUpper(string(verb)), Args: string(args)}, true
}

// validTag accepts IMAP tag characters: printable ASCII but for the
// specials.
func validTag(tag []byte) bool {
	for _, c := range tag {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\+`, c) >= 0 {
			return false
		}
	}
	return true
}

// NextLine returns the first complete line in buf (without its LF, with a
// trailing CR removed) and how many bytes it used, or n == 0 when no line is
// complete yet. It returns ErrLineTooLong once MaxLine bytes hold no LF.
func NextLine(buf []byte) (line []byte, n int, err error) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		if len(buf) >= MaxLine {
			return nil, 0, ErrLineTooLong
		}
		return nil, 0, nil
	}
	if i+1 > MaxLine {
		return nil, 0, ErrLineTooLong
	}
	return bytes.TrimSuffix(buf[:i], []byte{'\r'}), i + 1, nil
}
