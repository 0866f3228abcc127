package proto_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// FuzzParse feeds arbitrary input to the parser line by line, as a
// connection would, supplying every literal it asks for from the input
// that follows. The parser must never panic, never ask for a literal over
// MaxLiteral, never hand back a command over its limits, and every error
// must be an *Error with a tag and a status.
func FuzzParse(f *testing.F) {
	seeds := []string{
		// RFC 3501 section 8's client lines.
		"a001 login mrc secret\r\n",
		"a002 select inbox\r\n",
		"a003 fetch 12 full\r\n",
		"a004 fetch 12 body[header]\r\n",
		"a005 store 12 +flags \\deleted\r\n",
		"a006 logout\r\n",
		// Literals of both kinds, split across lines.
		"A003 APPEND saved-messages (\\Seen) {10}\r\n0123456789\r\n",
		"A004 APPEND INBOX {3+}\r\nabc (x {2}\r\nyz)\r\n",
		"a LOGIN {4+}\r\nuser {4+}\r\npass\r\n",
		// Sections, partials, search keys.
		"a UID FETCH 1:*,7 (UID BODY.PEEK[1.2.HEADER.FIELDS.NOT (\"X\" Y)]<0.100>)\r\n",
		"a SEARCH CHARSET UTF-8 OR (NOT SEEN) (SINCE 1-Feb-1994 UID 1:*) HEADER \"A\" {1}\r\nb\r\n",
		// Malformed and over limits.
		"a X ((((((((((((((((((((x))))))))))))))))))))\r\n",
		"a X ) {5+}\r\nhello\r\n",
		"a X {99999999999999999999+}\r\n",
		"a \"b\r\n",
		"\r\n\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	lim := proto.Limits{MaxLine: 256, MaxLiteral: 64, MaxCommand: 512, MaxArgs: 32, MaxDepth: 4}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := proto.NewParser(lim)
		for len(data) > 0 {
			var line []byte
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				line, data = data[:i+1], data[i+1:]
			} else {
				line, data = data, nil
			}
			cmd, lit, err := p.Line(line)
			checkErr(t, err)
			if cmd != nil {
				checkCommand(t, cmd, lim)
			}
			for lit != nil {
				if lit.Size > lim.MaxLiteral || lit.Size < 0 {
					t.Fatalf("literal of %d bytes asked for, limit %d", lit.Size, lim.MaxLiteral)
				}
				if int64(len(data)) < lit.Size {
					return
				}
				err := p.Literal(data[:lit.Size])
				checkErr(t, err)
				data = data[lit.Size:]
				lit = nil
			}
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *proto.Error
	if !errors.As(err, &e) || e.Tag == "" || (e.Status != "BAD" && e.Status != "NO") || e.Text == "" {
		t.Fatalf("error %#v is not a well-formed *proto.Error", err)
	}
}

func checkCommand(t *testing.T, cmd *proto.Command, lim proto.Limits) {
	t.Helper()
	if cmd.Tag == "" || cmd.Name == "" {
		t.Fatalf("command without tag or name: %+v", cmd)
	}
	n, depth := countArgs(cmd.Args, 1)
	if n > lim.MaxArgs || depth > lim.MaxDepth+1 {
		t.Fatalf("command with %d args and depth %d passed limits %+v", n, depth, lim)
	}
}

func countArgs(args []proto.Arg, depth int) (n, maxDepth int) {
	maxDepth = depth
	for _, a := range args {
		n++
		if a.Kind == proto.ListArg {
			m, d := countArgs(a.List, depth+1)
			n += m
			maxDepth = max(maxDepth, d)
		}
	}
	return n, maxDepth
}
