package msg

import (
	"bytes"
	"mime"
	"sort"
	"strings"
)

// Bounds on the MIME tree of one message, so a crafted message cannot make
// the parser recurse or allocate without bound.
const (
	MaxDepth = 16
	MaxParts = 1000
)

// Part is a message or a MIME body part. Header and Body alias the
// message's bytes (HeaderBytes with the blank line ending it).
type Part struct {
	HeaderBytes []byte
	Header      Header
	Body        []byte

	// Type and Subtype are lower-case ("text", "plain"); Params come from
	// Content-Type, names lower-case, values decoded (RFC 2231).
	Type, Subtype string
	Params        map[string]string
	ID            string // Content-ID
	Description   string // Content-Description
	Encoding      string // Content-Transfer-Encoding, upper-case, "7BIT" by default
	Disposition   string // Content-Disposition's value, lower-case, "" when absent
	DispParams    map[string]string
	Lines         int // text lines of Body

	// Parts are a multipart's children; Message is the message a
	// message/rfc822 part holds.
	Parts   []*Part
	Message *Part
}

// Parse reads a message into its MIME tree.
func Parse(m []byte) *Part {
	n := 0
	return parsePart(m, "text", "plain", 0, &n)
}

func parsePart(raw []byte, defType, defSub string, depth int, count *int) *Part {
	*count++
	hb, body := Split(raw)
	p := &Part{HeaderBytes: hb, Header: ParseHeader(hb), Body: body}
	p.Lines = bytes.Count(body, []byte{'\n'})
	if len(body) > 0 && body[len(body)-1] != '\n' {
		p.Lines++
	}
	p.Type, p.Subtype = defType, defSub
	if ct, ok := p.Header.Get("Content-Type"); ok {
		if mt, params, err := mime.ParseMediaType(ct); err == nil {
			t, sub, _ := strings.Cut(mt, "/")
			if t != "" && sub != "" {
				p.Type, p.Subtype, p.Params = t, sub, params
			}
		}
	}
	if p.Params == nil && p.Type == "text" {
		p.Params = map[string]string{"charset": "us-ascii"}
	}
	p.ID, _ = p.Header.Get("Content-ID")
	p.Description, _ = p.Header.Get("Content-Description")
	p.Encoding = "7BIT"
	if enc, ok := p.Header.Get("Content-Transfer-Encoding"); ok && enc != "" {
		p.Encoding = strings.ToUpper(enc)
	}
	if d, ok := p.Header.Get("Content-Disposition"); ok {
		if v, params, err := mime.ParseMediaType(d); err == nil {
			p.Disposition, p.DispParams = v, params
		}
	}
	if depth >= MaxDepth || *count >= MaxParts {
		if p.Type == "multipart" || p.Type == "message" && p.Subtype == "rfc822" {
			p.Type, p.Subtype, p.Params = "application", "octet-stream", nil
		}
		return p
	}
	switch {
	case p.Type == "multipart":
		childType, childSub := "text", "plain"
		if p.Subtype == "digest" {
			childType, childSub = "message", "rfc822"
		}
		for _, c := range splitMultipart(body, p.Params["boundary"]) {
			p.Parts = append(p.Parts, parsePart(c, childType, childSub, depth+1, count))
			if *count >= MaxParts {
				break
			}
		}
		if len(p.Parts) == 0 {
			// BODYSTRUCTURE cannot express a multipart without parts.
			p.Parts = []*Part{parsePart(nil, "text", "plain", depth+1, count)}
		}
	case p.Type == "message" && p.Subtype == "rfc822":
		p.Message = parsePart(body, "text", "plain", depth+1, count)
	}
	return p
}

// splitMultipart returns the body parts between the boundary delimiter
// lines; the line break before a delimiter belongs to the delimiter
// (RFC 2046 section 5.1.1).
func splitMultipart(body []byte, boundary string) [][]byte {
	if boundary == "" {
		return nil
	}
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1 // where the current part's content begins
	for i := 0; i < len(body); {
		end := bytes.IndexByte(body[i:], '\n')
		next := len(body)
		if end >= 0 {
			next = i + end + 1
		}
		line := body[i:next]
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t\r\n")
			closing := bytes.Equal(rest, []byte("--"))
			if closing || len(rest) == 0 {
				if start >= 0 {
					parts = append(parts, trimLineEnd(body[start:i]))
				}
				if closing {
					return parts
				}
				start = next
			}
		}
		i = next
	}
	if start >= 0 && start < len(body) {
		parts = append(parts, body[start:])
	}
	return parts
}

func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

// Find returns the part that section numbers name (BODY[1.2]), or nil. In
// a message that is not multipart, part 1 is the body; numbers after a
// message/rfc822 part go into the message it holds.
func (p *Part) Find(nums []int) *Part {
	cur := p
	for i, n := range nums {
		if i > 0 && cur.Message != nil {
			cur = cur.Message
		}
		switch {
		case len(cur.Parts) > 0:
			if n > len(cur.Parts) {
				return nil
			}
			cur = cur.Parts[n-1]
		case n != 1:
			return nil
		}
	}
	return cur
}

// SortedKeys returns m's keys in order, so responses are stable.
func SortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
