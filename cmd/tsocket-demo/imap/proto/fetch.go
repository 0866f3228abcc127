package proto

import (
	"strconv"
	"strings"
)

// FetchItem is one fetch attribute. Name is upper-cased: FLAGS, UID,
// INTERNALDATE, RFC822.SIZE, ENVELOPE, BODY, BODYSTRUCTURE, RFC822,
// RFC822.HEADER, RFC822.TEXT, or BODY[] for a section (with Section set,
// and Peek for BODY.PEEK).
type FetchItem struct {
	Name    string
	Section *Section
	Peek    bool
	// Partial is set for <Offset.Count>.
	Partial bool
	Offset  uint32
	Count   uint32
}

// Section is a body section, "1.2.HEADER.FIELDS (FROM TO)".
type Section struct {
	// Part holds the part numbers, empty for the whole message.
	Part []int
	// Spec is "", HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME.
	Spec string
	// Fields are HEADER.FIELDS' names, upper-cased.
	Fields []string
}

// BodySection is the FetchItem.Name of BODY[...] and BODY.PEEK[...].
const BodySection = "BODY[]"

// Label is the item's name in the FETCH response: BODY.PEEK is answered as
// BODY and a partial as its origin only (BODY[TEXT]<100>).
func (it FetchItem) Label() string {
	if it.Section == nil {
		return it.Name
	}
	var b strings.Builder
	b.WriteString("BODY[")
	s := it.Section
	for i, p := range s.Part {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(p))
	}
	if s.Spec != "" {
		if len(s.Part) > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Spec)
	}
	if len(s.Fields) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(s.Fields, " "))
		b.WriteByte(')')
	}
	b.WriteByte(']')
	if it.Partial {
		b.WriteByte('<')
		b.WriteString(strconv.FormatUint(uint64(it.Offset), 10))
		b.WriteByte('>')
	}
	return b.String()
}

var fetchMacros = map[string][]string{
	"ALL":  {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"},
	"FAST": {"FLAGS", "INTERNALDATE", "RFC822.SIZE"},
	"FULL": {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"},
}

var fetchNames = map[string]bool{
	"FLAGS": true, "UID": true, "INTERNALDATE": true, "RFC822.SIZE": true,
	"ENVELOPE": true, "BODY": true, "BODYSTRUCTURE": true, "RFC822": true,
	"RFC822.HEADER": true, "RFC822.TEXT": true,
}

// ParseFetch consumes FETCH's attributes: a macro (ALL, FAST, FULL), one
// attribute, or a parenthesised list of them.
func ParseFetch(c *Cursor) ([]FetchItem, error) {
	a, err := c.Next()
	if err != nil {
		return nil, err
	}
	var atoms []Arg
	switch a.Kind {
	case AtomArg:
		if m, ok := fetchMacros[strings.ToUpper(a.Str)]; ok {
			items := make([]FetchItem, len(m))
			for i, n := range m {
				items[i] = FetchItem{Name: n}
			}
			return items, nil
		}
		atoms = []Arg{a}
	case ListArg:
		atoms = a.List
		if len(atoms) == 0 {
			return nil, syntaxf("Empty fetch attribute list")
		}
	default:
		return nil, syntaxf("Invalid fetch attribute")
	}
	items := make([]FetchItem, 0, len(atoms))
	for _, at := range atoms {
		if at.Kind != AtomArg {
			return nil, syntaxf("Invalid fetch attribute")
		}
		it, err := ParseFetchItem(at.Str)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// ParseFetchItem parses one attribute, "BODY.PEEK[HEADER.FIELDS (A)]<0.9>"
// included.
func ParseFetchItem(s string) (FetchItem, error) {
	name, rest, hasSection := strings.Cut(s, "[")
	name = strings.ToUpper(name)
	if !hasSection {
		if !fetchNames[name] {
			return FetchItem{}, syntaxf("Unknown fetch attribute %s", s)
		}
		return FetchItem{Name: name}, nil
	}
	it := FetchItem{Name: BodySection}
	switch name {
	case "BODY":
	case "BODY.PEEK":
		it.Peek = true
	default:
		return FetchItem{}, syntaxf("Unknown fetch attribute %s", s)
	}
	end := strings.LastIndexByte(rest, ']')
	if end < 0 {
		return FetchItem{}, syntaxf("Missing ']'")
	}
	sec, err := parseSection(rest[:end])
	if err != nil {
		return FetchItem{}, err
	}
	it.Section = sec
	if partial := rest[end+1:]; partial != "" {
		if err := it.parsePartial(partial); err != nil {
			return FetchItem{}, err
		}
	}
	return it, nil
}

// parsePartial reads "<" number "." nz-number ">".
func (it *FetchItem) parsePartial(s string) error {
	if len(s) < 2 || s[0] != '<' || s[len(s)-1] != '>' {
		return syntaxf("Invalid partial range")
	}
	off, count, ok := strings.Cut(s[1:len(s)-1], ".")
	o, err1 := parseNumber(off)
	n, err2 := parseNumber(count)
	if !ok || err1 != nil || err2 != nil || n == 0 {
		return syntaxf("Invalid partial range")
	}
	it.Partial, it.Offset, it.Count = true, o, n
	return nil
}

// parseSection reads what lies between the brackets.
func parseSection(s string) (*Section, error) {
	sec := &Section{}
	spec, fields, hasFields := strings.Cut(s, " ")
	for spec != "" && spec[0] >= '0' && spec[0] <= '9' {
		num, rest, _ := strings.Cut(spec, ".")
		n, err := strconv.Atoi(num)
		if err != nil || n <= 0 || num[0] == '0' || len(sec.Part) >= 32 {
			return nil, syntaxf("Invalid section part")
		}
		sec.Part = append(sec.Part, n)
		spec = rest
	}
	sec.Spec = strings.ToUpper(spec)
	switch sec.Spec {
	case "", "TEXT", "HEADER":
	case "MIME":
		if len(sec.Part) == 0 {
			return nil, syntaxf("MIME needs a section part")
		}
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		if !hasFields {
			return nil, syntaxf("Missing header field list")
		}
		names, err := headerList(fields)
		if err != nil {
			return nil, err
		}
		sec.Fields = names
		return sec, nil
	default:
		return nil, syntaxf("Invalid section %s", s)
	}
	if hasFields {
		return nil, syntaxf("Invalid section %s", s)
	}
	return sec, nil
}

// headerList reads "(" header-fld-name *(SP header-fld-name) ")", names
// being atoms or quoted strings.
func headerList(s string) ([]string, error) {
	if len(s) < 3 || s[0] != '(' || s[len(s)-1] != ')' {
		return nil, syntaxf("Invalid header field list")
	}
	b := []byte(s[1 : len(s)-1])
	var names []string
	for i := 0; i < len(b); {
		switch {
		case b[i] == ' ':
			i++
		case b[i] == '"':
			name, n, err := unquote(b[i:])
			if err != nil {
				return nil, err
			}
			if !isFieldName(name) {
				return nil, syntaxf("Invalid header field name")
			}
			names = append(names, strings.ToUpper(name))
			i += n
		default:
			n, err := atomLen(b[i:])
			if err != nil || !isFieldName(string(b[i:i+n])) || strings.ContainsAny(string(b[i:i+n]), "[]()%*") {
				return nil, syntaxf("Invalid header field name")
			}
			names = append(names, strings.ToUpper(string(b[i:i+n])))
			i += n
		}
	}
	if len(names) == 0 {
		return nil, syntaxf("Empty header field list")
	}
	return names, nil
}

// isFieldName accepts an RFC 5322 field name: printable ASCII but for
// ':', so it can be echoed in the response's section label.
func isFieldName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return s != ""
}
