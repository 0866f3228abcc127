package proto

import (
	"strconv"
)

// Out is where responses go: the connection layer's output queue (a
// tsocket.Writer, say). Write queues the buffers in order and must not
// block; the caller never changes a buffer after passing it, so Write may
// keep them without copying until they are sent.
type Out interface {
	Write(b ...[]byte)
}

// copyMax is the longest literal copied into the formatting buffer; a
// longer one (a message body) is passed to Out as its own slice.
const copyMax = 512

// quoteMax is the longest string written quoted rather than as a literal.
const quoteMax = 1024

// Writer formats responses into buffers and hands them to an [Out] in one
// Write per Flush. Literal data is passed through without a copy: a FETCH
// of a stored message gives Out slices of the message itself. After Flush
// the Writer starts new buffers and never touches the old ones again.
//
// A Writer belongs to one session; it is not safe for concurrent use.
type Writer struct {
	out  Out
	bufs [][]byte
	cur  []byte
	n    int
}

// NewWriter returns a Writer that flushes to out.
func NewWriter(out Out) *Writer { return &Writer{out: out} }

// Len returns how many bytes have been formatted since the last Flush.
func (w *Writer) Len() int { return w.n }

// Flush hands everything formatted so far to Out.
func (w *Writer) Flush() {
	if len(w.cur) > 0 {
		w.bufs = append(w.bufs, w.cur)
	}
	if len(w.bufs) > 0 {
		w.out.Write(w.bufs...)
	}
	w.bufs, w.cur, w.n = nil, nil, 0
}

// Raw writes protocol text as it is.
func (w *Writer) Raw(s string) {
	w.cur = append(w.cur, s...)
	w.n += len(s)
}

// Byte writes one character of protocol text.
func (w *Writer) Byte(c byte) {
	w.cur = append(w.cur, c)
	w.n++
}

// Number writes a decimal number.
func (w *Writer) Number(n uint64) {
	l := len(w.cur)
	w.cur = strconv.AppendUint(w.cur, n, 10)
	w.n += len(w.cur) - l
}

// CRLF ends a response line.
func (w *Writer) CRLF() { w.Raw("\r\n") }

// Status writes a tagged or untagged status response:
// tag SP status SP ["[" code "]" SP] text CRLF.
func (w *Writer) Status(tag, status, code, text string) {
	w.Raw(tag)
	w.Byte(' ')
	w.Raw(status)
	w.Byte(' ')
	if code != "" {
		w.Byte('[')
		w.Raw(code)
		w.Raw("] ")
	}
	// Text may echo what the client sent: keep it to printable ASCII.
	for i := 0; i < len(text); i++ {
		if c := text[i]; c < ' ' || c >= 0x7f {
			w.Byte('?')
		} else {
			w.Byte(c)
		}
	}
	w.CRLF()
}

// String writes s as a quoted string, or as a literal when it cannot be
// quoted (CR, LF, NUL, 8-bit data, or long).
func (w *Writer) String(s string) {
	if !quotable(s) {
		w.Literal([]byte(s))
		return
	}
	w.Byte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			w.Byte('\\')
		}
		w.Byte(s[i])
	}
	w.Byte('"')
}

// NString writes s, or NIL when s is empty.
func (w *Writer) NString(s string) {
	if s == "" {
		w.Raw("NIL")
		return
	}
	w.String(s)
}

// NStrings writes each of ss as NString does, separated by spaces: the
// fields of an address or of a body part.
func (w *Writer) NStrings(ss ...string) {
	for i, s := range ss {
		if i > 0 {
			w.Byte(' ')
		}
		w.NString(s)
	}
}

// AString writes s as an atom when it is one, else as a string.
func (w *Writer) AString(s string) {
	if s != "" && s != "NIL" && isPlainAtom(s) {
		w.Raw(s)
		return
	}
	w.String(s)
}

// Literal writes {n} CRLF and b. A long b is handed to Out as it is, so
// the caller must leave it unchanged until it has been sent.
func (w *Writer) Literal(b []byte) {
	w.Byte('{')
	w.Number(uint64(len(b)))
	w.Raw("}\r\n")
	if len(b) <= copyMax {
		w.cur = append(w.cur, b...)
		w.n += len(b)
		return
	}
	if len(w.cur) > 0 {
		w.bufs = append(w.bufs, w.cur[:len(w.cur):len(w.cur)])
		w.cur = w.cur[len(w.cur):]
	}
	w.bufs = append(w.bufs, b)
	w.n += len(b)
}

func quotable(s string) bool {
	if len(s) > quoteMax {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\r' || c == '\n' || c >= 0x80 {
			return false
		}
	}
	return true
}

func isPlainAtom(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAtomChar(c) || c >= 0x80 || c == '%' || c == '*' || c == '\\' || c == ']' || c == '[' {
			return false
		}
	}
	return true
}
