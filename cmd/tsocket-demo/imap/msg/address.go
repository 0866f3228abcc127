package msg

import "strings"

// Address is one member of an address list as an IMAP envelope carries
// it: (name adl mailbox host). Group marks RFC 5322 group syntax: the
// start of a group, Mailbox holding its name, or with an empty Mailbox the
// end of one.
type Address struct {
	Name, Route, Mailbox, Host string
	Group                      bool
}

// Stand-ins for parts an address lacks, as Dovecot writes them: a NIL
// host would read as group syntax.
const (
	MissingMailbox = "MISSING_MAILBOX"
	MissingDomain  = "MISSING_DOMAIN"
)

type token struct {
	kind byte // 'a' atom, 'q' quoted string, 'c' comment, or the special itself
	s    string
}

// ParseAddressList parses an address-list (RFC 5322 section 3.4 with the
// obsolete routes and comments of section 4.4). It never fails: what it
// cannot read it skips, since mail in the wild is full of broken headers.
func ParseAddressList(s string) []Address {
	var out []Address
	var cur []token
	angle, inGroup := 0, false
	flush := func() {
		if a, ok := address(cur); ok {
			out = append(out, a)
		}
		cur = cur[:0]
	}
	for _, t := range tokenize(s) {
		switch {
		case t.kind == '<':
			angle++
		case t.kind == '>':
			angle = max(angle-1, 0)
		case angle == 0 && t.kind == ':' && !inGroup:
			out = append(out, Address{Mailbox: phrase(cur), Group: true})
			cur = cur[:0]
			inGroup = true
			continue
		case angle == 0 && t.kind == ';':
			flush()
			if inGroup {
				out = append(out, Address{Group: true})
				inGroup = false
			}
			continue
		case angle == 0 && t.kind == ',':
			flush()
			continue
		}
		cur = append(cur, t)
	}
	flush()
	if inGroup {
		out = append(out, Address{Group: true})
	}
	return out
}

// address reads [phrase] "<" [route ":"] addr-spec ">" or a bare
// addr-spec with perhaps a comment naming it.
func address(toks []token) (Address, bool) {
	lt := -1
	for i, t := range toks {
		if t.kind == '<' {
			lt = i
			break
		}
	}
	var a Address
	spec := toks
	if lt >= 0 {
		a.Name = phrase(toks[:lt])
		spec = toks[lt+1:]
		for i, t := range spec {
			if t.kind == '>' {
				spec = spec[:i]
				break
			}
		}
		if len(spec) > 0 && spec[0].kind == '@' {
			for i, t := range spec {
				if t.kind == ':' {
					a.Route = join(spec[:i])
					spec = spec[i+1:]
					break
				}
			}
		}
	} else {
		for _, t := range toks {
			if t.kind == 'c' {
				a.Name = strings.TrimSpace(t.s)
			}
		}
	}
	at := -1
	for i, t := range spec {
		if t.kind == '@' {
			at = i
		}
	}
	if at < 0 {
		a.Mailbox = join(spec)
	} else {
		a.Mailbox, a.Host = join(spec[:at]), join(spec[at+1:])
	}
	if a.Mailbox == "" && a.Host == "" {
		return Address{}, false
	}
	if a.Mailbox == "" {
		a.Mailbox = MissingMailbox
	}
	if a.Host == "" {
		a.Host = MissingDomain
	}
	return a, true
}

// phrase joins words with single spaces, as a display name.
func phrase(toks []token) string {
	var words []string
	for _, t := range toks {
		if t.kind == 'a' || t.kind == 'q' {
			words = append(words, t.s)
		}
	}
	return strings.Join(words, " ")
}

// join concatenates the words and specials of a local part or a domain,
// dropping comments.
func join(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		switch t.kind {
		case 'c':
		case 'a', 'q':
			b.WriteString(t.s)
		default:
			b.WriteByte(t.kind)
		}
	}
	return b.String()
}

// tokenize splits an unfolded header value into atoms (dots included, so
// dot-atoms and obsolete phrases stay whole), quoted strings, comments,
// domain literals (as atoms) and specials.
func tokenize(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == '"':
			var b strings.Builder
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
				i++
			}
			i++
			toks = append(toks, token{'q', b.String()})
		case c == '(':
			depth, start := 0, i+1
			for ; i < len(s); i++ {
				if s[i] == '\\' {
					i++
				} else if s[i] == '(' {
					depth++
				} else if s[i] == ')' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			toks = append(toks, token{'c', s[start:min(i, len(s))]})
			i++
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				end = len(s) - i - 1
			}
			toks = append(toks, token{'a', s[i : i+end+1]})
			i += end + 1
		case strings.IndexByte("<>:;@,\\)]", c) >= 0:
			toks = append(toks, token{kind: c})
			i++
		default:
			start := i
			for i < len(s) && strings.IndexByte(" \t\r\n\"()<>[]:;@,\\", s[i]) < 0 {
				i++
			}
			toks = append(toks, token{'a', s[start:i]})
		}
	}
	return toks
}
