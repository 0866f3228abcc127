package testutil

import (
	"bytes"
	"io"
)

// RefReader is the reference for tsocket.Reader and the record buffer
// under it: it reads all of Data as one string, with none of the reads,
// buffers or chunks the real ones deal with. A record over Limit bytes
// (delimiter included) is TooLong (the caller's sentinel, so that this
// package stays below tevent) and is skipped up to and including its
// delimiter; the peer closing inside a skipped record is
// io.ErrUnexpectedEOF.
type RefReader struct {
	Data    []byte
	Limit   int
	TooLong error

	pos   int
	skip  []byte // the delimiter of a record still to be skipped
	ended bool
}

// ReadUntil returns the next record ending in delim, or the error.
func (r *RefReader) ReadUntil(delim []byte) (string, error) {
	if err := r.skipRecord(); err != nil {
		return "", err
	}
	rest := r.Data[r.pos:]
	i := bytes.Index(rest, delim)
	switch {
	case i < 0 && len(rest) >= r.Limit:
		r.skip = delim // refused as soon as Limit bytes hold no delimiter
		return "", r.TooLong
	case i < 0:
		return "", r.end(len(rest) > 0)
	case i+len(delim) > r.Limit:
		r.pos += i + len(delim)
		return "", r.TooLong
	}
	r.pos += i + len(delim)
	return string(rest[:i+len(delim)]), nil
}

// ReadFull returns the next n bytes, or the error; n == 0 reads nothing,
// as io.ReadFull does.
func (r *RefReader) ReadFull(n int) (string, error) {
	if n == 0 {
		return "", nil
	}
	if err := r.skipRecord(); err != nil {
		return "", err
	}
	rest := r.Data[r.pos:]
	if len(rest) < n {
		return "", r.end(len(rest) > 0)
	}
	r.pos += n
	return string(rest[:n]), nil
}

// Ended reports whether a read has returned io.EOF or io.ErrUnexpectedEOF.
func (r *RefReader) Ended() bool { return r.ended }

func (r *RefReader) skipRecord() error {
	if r.skip == nil {
		return nil
	}
	i := bytes.Index(r.Data[r.pos:], r.skip)
	if i < 0 {
		return r.end(true)
	}
	r.pos += i + len(r.skip)
	r.skip = nil
	return nil
}

func (r *RefReader) end(partial bool) error {
	r.ended = true
	if partial {
		return io.ErrUnexpectedEOF
	}
	return io.EOF
}
