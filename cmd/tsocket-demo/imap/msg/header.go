package msg

import (
	"bytes"
	"strings"
)

// Field is one header field: Name as written, Raw the whole field as
// stored, folded lines and line ending included.
type Field struct {
	Name string
	Raw  []byte
}

// Value returns the field's body unfolded and trimmed.
func (f Field) Value() string {
	i := bytes.IndexByte(f.Raw, ':')
	v := f.Raw[i+1:]
	var b strings.Builder
	for len(v) > 0 {
		line, rest, _ := bytes.Cut(v, []byte{'\n'})
		b.Write(bytes.TrimSuffix(line, []byte{'\r'}))
		v = rest
	}
	return strings.Trim(b.String(), " \t")
}

// Header is a message's or a MIME part's header fields in order.
type Header []Field

// Get returns the first field named name (in any case).
func (h Header) Get(name string) (string, bool) {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value(), true
		}
	}
	return "", false
}

// Select returns the fields named in names (upper-case), or all the
// others with not, followed by the blank line that ends a header: what
// BODY[HEADER.FIELDS (...)] returns.
func (h Header) Select(names []string, not bool) []byte {
	var b []byte
	for _, f := range h {
		in := false
		for _, n := range names {
			if strings.EqualFold(f.Name, n) {
				in = true
				break
			}
		}
		if in != not {
			b = append(b, f.Raw...)
			if !bytes.HasSuffix(b, []byte{'\n'}) {
				b = append(b, '\r', '\n')
			}
		}
	}
	return append(b, '\r', '\n')
}

// Split returns the header of m (its fields and the blank line ending
// them) and its body. A message without a blank line is all header.
func Split(m []byte) (header, body []byte) {
	for i := 0; i < len(m); {
		end := bytes.IndexByte(m[i:], '\n')
		if end < 0 {
			break
		}
		line := m[i : i+end+1]
		i += end + 1
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			return m[:i], m[i:]
		}
	}
	return m, nil
}

// ParseHeader splits a header into fields. A line that is neither a field
// nor a continuation is skipped.
func ParseHeader(header []byte) Header {
	var h Header
	for i := 0; i < len(header); {
		end := bytes.IndexByte(header[i:], '\n')
		if end < 0 {
			end = len(header) - i - 1
		}
		line := header[i : i+end+1]
		start := i
		i += end + 1
		if line[0] == ' ' || line[0] == '\t' {
			if len(h) > 0 {
				last := &h[len(h)-1]
				last.Raw = header[start-len(last.Raw) : i]
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			continue
		}
		name := strings.TrimRight(string(line[:colon]), " \t")
		if name == "" || strings.ContainsAny(name, " \t") {
			continue
		}
		h = append(h, Field{Name: name, Raw: line})
	}
	return h
}
