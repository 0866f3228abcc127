package testutil

import (
	"bytes"
	"io"

	"github.com/gotevent/gotevent/tevent"
)

// SplitRecords is the reference for MaskEvent.ReadUntil: the records of
// data ending in delim, as bytes.SplitAfter cuts them, up to the first one
// over limit bytes (delimiter included), and the error ReadUntil must end
// with: io.EOF after whole records, io.ErrUnexpectedEOF after a partial
// one, tevent.ErrRecordTooLong at a record over the limit.
func SplitRecords(data, delim []byte, limit int) ([]string, error) {
	var want []string
	for _, rec := range bytes.SplitAfter(data, delim) {
		complete := bytes.HasSuffix(rec, delim)
		if complete && len(rec) > limit || !complete && len(rec) >= limit {
			return want, tevent.ErrRecordTooLong
		}
		if !complete {
			if len(rec) > 0 {
				return want, io.ErrUnexpectedEOF
			}
			break
		}
		want = append(want, string(rec))
	}
	return want, io.EOF
}
