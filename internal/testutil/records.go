package testutil

import (
	"bytes"
	"io"
)

// SplitRecords is the reference for MaskEvent.ReadUntil: the records of
// data ending in delim, as bytes.SplitAfter cuts them, up to the first one
// over limit bytes (delimiter included), and the error ReadUntil must end
// with: io.EOF after whole records, io.ErrUnexpectedEOF after a partial
// one, tooLong (tevent.ErrRecordTooLong, given by the caller: testutil
// lies below tevent) at a record over the limit.
func SplitRecords(data, delim []byte, limit int, tooLong error) ([]string, error) {
	var want []string
	for _, rec := range bytes.SplitAfter(data, delim) {
		complete := bytes.HasSuffix(rec, delim)
		if complete && len(rec) > limit || !complete && len(rec) >= limit {
			return want, tooLong
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
