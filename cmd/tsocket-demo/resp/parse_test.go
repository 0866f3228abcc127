package resp_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
)

func strs(args [][]byte) []string {
	var out []string
	for _, a := range args {
		out = append(out, string(a))
	}
	return out
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		used int
		err  bool
	}{
		{in: "*1\r\n$4\r\nPING\r\n", want: []string{"PING"}, used: 14},
		{in: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n", want: []string{"SET", "k", ""}, used: 26},
		{in: "*2\r\n$4\r\nECHO\r\n$5\r\nhel", used: 0},    // incomplete
		{in: "*2\r\n$4\r\nECHO\r\n", used: 0},             // incomplete
		{in: "*2", used: 0},                               // incomplete header
		{in: "PING\r\n", want: []string{"PING"}, used: 6}, // inline
		{in: "set  a   b\n", want: []string{"set", "a", "b"}, used: 11},
		{in: "\r\n", used: 2},                                // empty line skipped
		{in: "*0\r\n", used: 4},                              // empty array skipped
		{in: "*x\r\n", err: true},                            // non-numeric count
		{in: "*1\r\n$-5\r\n", err: true},                     // negative bulk length
		{in: "*1\r\n$99999999999\r\n", err: true},            // huge bulk length
		{in: "*1\r\n:5\r\n", err: true},                      // not a bulk
		{in: "*1\r\n$1\r\nab\r\n", err: true},                // bulk without CRLF
		{in: "*100000\r\n", err: true},                       // too many args
		{in: "*1\n", err: true},                              // LF without CR
		{in: "*1\r\n$" + strings.Repeat("9", 70), err: true}, // header never ends
	} {
		args, used, err := resp.Parse([]byte(tc.in), nil)
		if tc.err {
			if !errors.Is(err, resp.ErrProtocol) {
				t.Errorf("Parse(%q) err = %v, want a protocol error", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if used != tc.used {
			t.Errorf("Parse(%q) used %d bytes, want %d", tc.in, used, tc.used)
		}
		if diff := cmp.Diff(tc.want, strs(args)); diff != "" {
			t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

// A Parser refuses a bulk string past its MaxBulk, with Redis's message,
// as soon as the header line is there.
func TestParserMaxBulk(t *testing.T) {
	p := resp.Parser{MaxBulk: 10}
	if _, _, err := p.Parse([]byte("*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n"), nil); err != nil {
		t.Fatalf("a bulk string of MaxBulk bytes: %v", err)
	}
	for _, in := range []string{"*2\r\n$3\r\nGET\r\n$11\r\n", "*1\r\n$99999999999999999999\r\n"} {
		_, _, err := p.Parse([]byte(in), nil)
		if !errors.Is(err, resp.ErrProtocol) || !strings.Contains(err.Error(), "invalid bulk length") {
			t.Errorf("Parse(%q) = %v, want a protocol error \"invalid bulk length\"", in, err)
		}
		if _, _, err := p.Start([]byte(in), nil); !errors.Is(err, resp.ErrProtocol) {
			t.Errorf("Start(%q) = %v, want a protocol error", in, err)
		}
	}
}

// Start and More take a command apart: the arguments complete so far, and
// the length of the next one as soon as its header is there.
func TestParserStartMore(t *testing.T) {
	var p resp.Parser
	in := "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$20\r\n0123456789"
	part, ok, err := p.Start([]byte(in), nil)
	if err != nil || !ok {
		t.Fatalf("Start(%q) = %v, %v", in, ok, err)
	}
	type got struct {
		Args       []string
		Used, Left int
		Next       int64
		NextHeader int
	}
	want := got{Args: []string{"SET", "k"}, Used: 20, Left: 2, Next: 20, NextHeader: 5}
	if diff := cmp.Diff(want, got{strs(part.Args), part.Used, part.Left, part.Next, part.NextHeader}); diff != "" {
		t.Errorf("Start mismatch (-want +got):\n%s", diff)
	}
	// The big one was read elsewhere; the last argument follows.
	rest := "$2\r\nxy\r\n*1\r\n"
	part, err = p.More([]byte(rest), 1, nil)
	want = got{Args: []string{"xy"}, Used: 8, Left: 0, Next: -1}
	if err != nil {
		t.Fatalf("More(%q): %v", rest, err)
	}
	if diff := cmp.Diff(want, got{strs(part.Args), part.Used, part.Left, part.Next, part.NextHeader}); diff != "" {
		t.Errorf("More mismatch (-want +got):\n%s", diff)
	}
	for _, in := range []string{"*3\r", "PING\r\n", "*0\r\n", ""} {
		if _, ok, err := p.Start([]byte(in), nil); ok || err != nil {
			t.Errorf("Start(%q) = %v, %v; want nothing to take apart", in, ok, err)
		}
	}
}

func TestParseInlineCap(t *testing.T) {
	line := strings.Repeat("a", resp.MaxInlineLen+1)
	if _, _, err := resp.Parse([]byte(line), nil); !errors.Is(err, resp.ErrProtocol) {
		t.Fatalf("over-long inline command without newline: %v", err)
	}
}

// The same stream cut at any point parses to the same commands.
func FuzzParse(f *testing.F) {
	f.Add([]byte("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\nPING\r\n*1\r\n$4\r\nPING\r\n"), uint8(3))
	f.Add([]byte("SET a b\r\nGET a\r\n"), uint8(1))
	f.Add([]byte("*1\r\n$99999999999\r\n"), uint8(0))
	f.Add([]byte("*-1\r\n*0\r\n\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, step uint8) {
		whole, wholeErr := parseAll(data, len(data)+1)
		cut, cutErr := parseAll(data, int(step)+1)
		if (wholeErr == nil) != (cutErr == nil) {
			t.Fatalf("error differs with chunking: %v vs %v", wholeErr, cutErr)
		}
		if diff := cmp.Diff(whole, cut); diff != "" {
			t.Fatalf("commands differ with chunking (-whole +cut):\n%s", diff)
		}
	})
}

// parseAll feeds data in chunks of step bytes, as a server reading a socket
// does, and returns every command parsed.
func parseAll(data []byte, step int) ([][]string, error) {
	var cmds [][]string
	var buf []byte
	for off := 0; off < len(data) || len(buf) > 0; {
		if off < len(data) {
			end := min(off+step, len(data))
			buf = append(buf, data[off:end]...)
			off = end
		}
		for {
			args, n, err := resp.Parse(buf, nil)
			if err != nil {
				return cmds, err
			}
			if n == 0 {
				break
			}
			if args != nil {
				cmds = append(cmds, strs(args))
			}
			buf = buf[n:]
		}
		if off >= len(data) {
			break
		}
	}
	return cmds, nil
}
