package demo_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/internal/demo"
)

func strs(args [][]byte) []string {
	var out []string
	for _, a := range args {
		out = append(out, string(a))
	}
	return out
}

func TestParseRESP(t *testing.T) {
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
		args, used, err := demo.ParseRESP([]byte(tc.in), nil)
		if tc.err {
			if !errors.Is(err, demo.ErrProtocol) {
				t.Errorf("ParseRESP(%q) err = %v, want a protocol error", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseRESP(%q): %v", tc.in, err)
			continue
		}
		if used != tc.used {
			t.Errorf("ParseRESP(%q) used %d bytes, want %d", tc.in, used, tc.used)
		}
		if diff := cmp.Diff(tc.want, strs(args)); diff != "" {
			t.Errorf("ParseRESP(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseRESPInlineCap(t *testing.T) {
	line := strings.Repeat("a", demo.MaxInlineLen+1)
	if _, _, err := demo.ParseRESP([]byte(line), nil); !errors.Is(err, demo.ErrProtocol) {
		t.Fatalf("over-long inline command without newline: %v", err)
	}
}

func TestStoreExec(t *testing.T) {
	s := demo.NewStore()
	var out []byte
	run := func(args ...string) {
		var b [][]byte
		for _, a := range args {
			b = append(b, []byte(a))
		}
		out, _ = s.Exec(b, out)
	}
	run("PING")
	run("ping", "hi")
	run("SET", "k", "v")
	run("GET", "k")
	run("GET", "missing")
	run("EXISTS", "k", "missing")
	run("INCR", "n")
	run("INCR", "n")
	run("INCR", "k")
	run("DEL", "k", "n", "missing")
	run("ECHO")
	run("NOPE")
	run("CONFIG", "GET", "save")
	run("COMMAND", "DOCS")
	want := "+PONG\r\n$2\r\nhi\r\n+OK\r\n$1\r\nv\r\n$-1\r\n:1\r\n:1\r\n:2\r\n" +
		"-ERR value is not an integer or out of range\r\n:2\r\n" +
		"-ERR wrong number of arguments for 'echo' command\r\n-ERR unknown command 'NOPE'\r\n" +
		"*2\r\n$4\r\nsave\r\n$-1\r\n*0\r\n"
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Fatalf("replies mismatch (-want +got):\n%s", diff)
	}
	if _, quit := s.Exec([][]byte{[]byte("QUIT")}, nil); !quit {
		t.Fatal("QUIT did not ask to close")
	}
}

// The same stream cut at any point parses to the same commands.
func FuzzParseRESP(f *testing.F) {
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
			args, n, err := demo.ParseRESP(buf, nil)
			if err != nil {
				return cmds, err
			}
			if n == 0 {
				break
			}
			if len(buf) > demo.MaxRESPBuffer {
				return cmds, errors.New("buffer over its cap")
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

// The read buffer never grows past its cap, whatever the request sizes.
func TestReaderBufferCapped(t *testing.T) {
	for _, step := range []int{1, 100, 4096, 65536, demo.MaxRESPBuffer} {
		if got := demo.ReaderGrowth(demo.MaxRESPBuffer, step); got != demo.MaxRESPBuffer {
			t.Errorf("filled in %d-byte steps, the buffer reached %d bytes; want exactly the %d cap", step, got, demo.MaxRESPBuffer)
		}
	}
}
