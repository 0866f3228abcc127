package imap_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want imap.Command
		ok   bool
	}{
		{"a1 capability", imap.Command{Tag: "a1", Verb: "CAPABILITY"}, true},
		{"t2 NOOP\r", imap.Command{Tag: "t2", Verb: "NOOP"}, true},
		{"x LOGIN user pass", imap.Command{Tag: "x", Verb: "LOGIN", Args: "user pass"}, true},
		{"", imap.Command{}, false},
		{"notag", imap.Command{}, false},
		{" NOOP", imap.Command{}, false},
		{"a* NOOP", imap.Command{}, false},
		{"a1 ", imap.Command{}, false},
	} {
		got, ok := imap.ParseLine([]byte(tc.in))
		if ok != tc.ok {
			t.Errorf("ParseLine(%q) ok = %v", tc.in, ok)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseLine(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestNextLine(t *testing.T) {
	line, n, err := imap.NextLine([]byte("a NOOP\r\nb"))
	if err != nil || n != 8 || string(line) != "a NOOP" {
		t.Fatalf("NextLine = %q, %d, %v", line, n, err)
	}
	if _, n, err := imap.NextLine([]byte("partial")); n != 0 || err != nil {
		t.Fatalf("partial line: n=%d err=%v", n, err)
	}
	if _, _, err := imap.NextLine([]byte(strings.Repeat("x", imap.MaxLine))); !errors.Is(err, imap.ErrLineTooLong) {
		t.Fatalf("over-long line: %v", err)
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte("a1 IDLE\r\n"))
	f.Add([]byte("DONE\r\n"))
	f.Add([]byte("* BAD\r\n\r\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for len(data) > 0 {
			line, n, err := imap.NextLine(data)
			if err != nil || n == 0 {
				return
			}
			if n > imap.MaxLine || len(line) >= n {
				t.Fatalf("NextLine used %d bytes for a %d-byte line", n, len(line))
			}
			if cmd, ok := imap.ParseLine(line); ok && (cmd.Tag == "" || cmd.Verb == "") {
				t.Fatalf("ParseLine(%q) ok with an empty tag or verb", line)
			}
			data = data[n:]
		}
	})
}
