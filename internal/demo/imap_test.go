package demo_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/internal/demo"
)

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want demo.Command
		ok   bool
	}{
		{"a1 capability", demo.Command{Tag: "a1", Verb: "CAPABILITY"}, true},
		{"t2 NOOP\r", demo.Command{Tag: "t2", Verb: "NOOP"}, true},
		{"x LOGIN user pass", demo.Command{Tag: "x", Verb: "LOGIN", Args: "user pass"}, true},
		{"", demo.Command{}, false},
		{"notag", demo.Command{}, false},
		{" NOOP", demo.Command{}, false},
		{"a* NOOP", demo.Command{}, false},
		{"a1 ", demo.Command{}, false},
	} {
		got, ok := demo.ParseLine([]byte(tc.in))
		if ok != tc.ok {
			t.Errorf("ParseLine(%q) ok = %v", tc.in, ok)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseLine(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestNextLine(t *testing.T) {
	line, n, err := demo.NextLine([]byte("a NOOP\r\nb"))
	if err != nil || n != 8 || string(line) != "a NOOP" {
		t.Fatalf("NextLine = %q, %d, %v", line, n, err)
	}
	if _, n, err := demo.NextLine([]byte("partial")); n != 0 || err != nil {
		t.Fatalf("partial line: n=%d err=%v", n, err)
	}
	if _, _, err := demo.NextLine([]byte(strings.Repeat("x", demo.MaxLine))); !errors.Is(err, demo.ErrLineTooLong) {
		t.Fatalf("over-long line: %v", err)
	}
}

func FuzzParseLine(f *testing.F) {
	f.Add([]byte("a1 IDLE\r\n"))
	f.Add([]byte("DONE\r\n"))
	f.Add([]byte("* BAD\r\n\r\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for len(data) > 0 {
			line, n, err := demo.NextLine(data)
			if err != nil || n == 0 {
				return
			}
			if n > demo.MaxLine || len(line) >= n {
				t.Fatalf("NextLine used %d bytes for a %d-byte line", n, len(line))
			}
			if cmd, ok := demo.ParseLine(line); ok && (cmd.Tag == "" || cmd.Verb == "") {
				t.Fatalf("ParseLine(%q) ok with an empty tag or verb", line)
			}
			data = data[n:]
		}
	})
}

// Lines split across reads survive the shared buffer being reused between
// them, and a connection with no partial line holds no buffer.
func TestReaderSharedBuffer(t *testing.T) {
	chunks := []string{"a1 NOOP\r\na2 CAP", "ABILITY\r\n", "a3 NO", "OP", "\r\na4 LOGOUT\r\n"}
	lines, heldIdle := demo.ReaderLines(chunks, 64)
	want := []string{"a1 NOOP", "a2 CAPABILITY", "a3 NOOP", "a4 LOGOUT"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if heldIdle {
		t.Error("the reader kept a buffer of its own with nothing pending")
	}
}
