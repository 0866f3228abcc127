package proto

import "bytes"

// The lexical pieces of RFC 3501's command syntax, shared by the parser
// and the fetch section decoder.

// trailingLiteral finds a literal announcement ending the line.
func trailingLiteral(b []byte) (size int64, sync, ok bool) {
	if len(b) == 0 || b[len(b)-1] != '}' {
		return 0, false, false
	}
	i := bytes.LastIndexByte(b, '{')
	if i < 0 {
		return 0, false, false
	}
	size, sync, n, ok := literalSpec(b[i:])
	return size, sync, ok && i+n == len(b)
}

// literalSpec reads "{" number ["+"] "}".
func literalSpec(b []byte) (size int64, sync bool, n int, ok bool) {
	i := 1
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		// Saturate rather than fail, so an absurd LITERAL+ is still
		// recognised as one (and refused as too large).
		if size < (1<<62)/10 {
			size = size*10 + int64(b[i]-'0')
		} else {
			size = 1 << 62
		}
		i++
	}
	if i == 1 {
		return 0, false, 0, false
	}
	sync = true
	if i < len(b) && b[i] == '+' {
		sync = false
		i++
	}
	if i >= len(b) || b[i] != '}' {
		return 0, false, 0, false
	}
	return size, sync, i + 1, true
}

// unquote reads a quoted string: only \" and \\ are escapes, and CR, LF
// and NUL may not appear (RFC 3501 quoted).
func unquote(b []byte) (string, int, *Error) {
	var sb []byte
	for i := 1; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			return string(sb), i + 1, nil
		case '\\':
			i++
			if i == len(b) || b[i] != '"' && b[i] != '\\' {
				return "", 0, syntaxf("Invalid escape in quoted string")
			}
			sb = append(sb, b[i])
		case 0, '\r', '\n':
			return "", 0, syntaxf("Invalid character in quoted string")
		default:
			sb = append(sb, c)
		}
	}
	return "", 0, syntaxf("Missing '\"'")
}

// atomLen measures an atom. A '[' opens a section that runs to its ']'
// and may hold spaces, lists and quoted strings (BODY[HEADER.FIELDS (A B)]),
// as fetch attributes need.
func atomLen(b []byte) (int, *Error) {
	i := 0
	for i < len(b) {
		c := b[i]
		if c == '[' {
			n, err := sectionLen(b[i:])
			if err != nil {
				return 0, err
			}
			i += n
			continue
		}
		if !isAtomChar(c) {
			break
		}
		i++
	}
	if i == 0 {
		return 0, syntaxf("Invalid characters in atom")
	}
	if i < len(b) && b[i] != ' ' && b[i] != ')' {
		return 0, syntaxf("Invalid characters in atom")
	}
	return i, nil
}

func sectionLen(b []byte) (int, *Error) {
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == ']':
			return i + 1, nil
		case c == '"':
			_, n, err := unquote(b[i:])
			if err != nil {
				return 0, err
			}
			i += n - 1
		case c == '[' || c == '{' || c < ' ' || c == 0x7f:
			return 0, syntaxf("Invalid characters in section")
		}
	}
	return 0, syntaxf("Missing ']'")
}

// isAtomChar accepts what may appear in an atom as this parser reads them:
// ATOM-CHAR plus the list wildcards, '\' (flags) and ']' (astrings), which
// the argument decoders check further.
func isAtomChar(c byte) bool {
	return c > ' ' && c != 0x7f && c != '(' && c != ')' && c != '{' && c != '"'
}

// isTag accepts 1*<ASTRING-CHAR except "+">.
func isTag(b []byte) bool {
	for _, c := range b {
		if !isAtomChar(c) || c == '+' || c == '%' || c == '*' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}
