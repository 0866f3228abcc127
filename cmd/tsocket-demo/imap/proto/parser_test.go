package proto_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// feed gives the parser each input in turn: a line, or the literal the
// previous line asked for. It records what came out, one string per event:
// "cmd TAG NAME args", "lit N sync|nonsync|discard", "err TAG STATUS [CODE] text (fatal)".
func feed(p *proto.Parser, inputs ...string) []string {
	var out []string
	var lit *proto.Literal
	for _, in := range inputs {
		if lit != nil {
			if err := p.Literal([]byte(in)); err != nil {
				out = append(out, describeErr(err))
			}
			lit = nil
			continue
		}
		cmd, l, err := p.Line([]byte(in))
		if err != nil {
			out = append(out, describeErr(err))
		}
		if cmd != nil {
			out = append(out, "cmd "+cmd.Tag+" "+cmd.Name+" "+describeArgs(cmd.Args))
		}
		if l != nil {
			kind := "sync"
			switch {
			case l.Discard:
				kind = "discard"
			case !l.Sync:
				kind = "nonsync"
			}
			out = append(out, fmt.Sprintf("lit %d %s", l.Size, kind))
			lit = l
		}
	}
	return out
}

func describeErr(err error) string {
	var e *proto.Error
	if !errors.As(err, &e) {
		return "error " + err.Error()
	}
	s := "err " + e.Tag + " " + e.Status
	if e.Code != "" {
		s += " [" + e.Code + "]"
	}
	s += " " + e.Text
	if e.Fatal {
		s += " (fatal)"
	}
	return s
}

func describeArgs(args []proto.Arg) string {
	var parts []string
	for _, a := range args {
		switch a.Kind {
		case proto.AtomArg:
			parts = append(parts, a.Str)
		case proto.QuotedArg:
			parts = append(parts, fmt.Sprintf("%q", a.Str))
		case proto.LiteralArg:
			parts = append(parts, fmt.Sprintf("{%q}", a.Data))
		case proto.ListArg:
			parts = append(parts, "("+describeArgs(a.List)+")")
		}
	}
	return strings.Join(parts, " ")
}

func TestParserLines(t *testing.T) {
	tests := []struct {
		name  string
		lim   proto.Limits
		input []string
		want  []string
	}{
		{"noop", proto.Limits{}, []string{"a1 noop\r\n"}, []string{"cmd a1 NOOP "}},
		{"bare LF", proto.Limits{}, []string{"a1 NOOP\n"}, []string{"cmd a1 NOOP "}},
		{"empty line ignored", proto.Limits{}, []string{"\r\n", "a CAPABILITY\r\n"}, []string{"cmd a CAPABILITY "}},
		{"login quoted", proto.Limits{}, []string{`a001 LOGIN "SMITH" "sesame \"x\" \\"` + "\r\n"},
			[]string{`cmd a001 LOGIN "SMITH" "sesame \"x\" \\"`}},
		{"select", proto.Limits{}, []string{"A142 SELECT INBOX\r\n"}, []string{"cmd A142 SELECT INBOX"}},
		{"fetch section atom", proto.Limits{}, []string{"a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM \"To\")]<0.100>)\r\n"},
			[]string{`cmd a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM "To")]<0.100>)`}},
		{"nested lists", proto.Limits{}, []string{"a SEARCH (OR (SEEN) (FLAGGED)) NOT DELETED\r\n"},
			[]string{"cmd a SEARCH (OR (SEEN) (FLAGGED)) NOT DELETED"}},
		{"empty list and string", proto.Limits{}, []string{"a STORE 1 FLAGS () \"\"\r\n"}, []string{`cmd a STORE 1 FLAGS () ""`}},
		{"uid fetch", proto.Limits{}, []string{"a UID FETCH 4:* UID\r\n"}, []string{"cmd a UID FETCH 4:* UID"}},
		{"sync literal", proto.Limits{}, []string{"a LOGIN {5}\r\n", "fred!", " {3}\r\n", "abc", "\r\n"},
			[]string{"lit 5 sync", "lit 3 sync", `cmd a LOGIN {"fred!"} {"abc"}`}},
		{"literal plus", proto.Limits{}, []string{"A003 APPEND saved-messages (\\Seen) {4+}\r\n", "x\r\ny", "\r\n"},
			[]string{"lit 4 nonsync", `cmd A003 APPEND saved-messages (\Seen) {"x\r\ny"}`}},
		{"literal in list", proto.Limits{}, []string{"a X ({2}\r\n", "ab", " c)\r\n"},
			[]string{"lit 2 sync", `cmd a X ({"ab"} c)`}},
		{"zero literal", proto.Limits{}, []string{"a X {0}\r\n", "", "\r\n"}, []string{"lit 0 sync", `cmd a X {""}`}},

		{"invalid tag", proto.Limits{}, []string{"a+b NOOP\r\n"}, []string{"err * BAD Invalid tag"}},
		{"star tag", proto.Limits{}, []string{"* NOOP\r\n"}, []string{"err * BAD Invalid tag"}},
		{"missing name", proto.Limits{}, []string{"abc\r\n"}, []string{"err abc BAD Missing command name"}},
		{"bad name", proto.Limits{}, []string{"abc (NOOP)\r\n"}, []string{"err abc BAD Invalid command name"}},
		{"unbalanced close", proto.Limits{}, []string{"a X b)\r\n"}, []string{"err a BAD Unexpected ')'"}},
		{"unbalanced open", proto.Limits{}, []string{"a X (b\r\n"}, []string{"err a BAD Missing ')'"}},
		{"no space", proto.Limits{}, []string{"a X (b)c\r\n"}, []string{"err a BAD Missing space between arguments"}},
		{"unterminated quote", proto.Limits{}, []string{"a LOGIN \"x\r\n"}, []string{`err a BAD Missing '"'`}},
		{"bad escape", proto.Limits{}, []string{"a LOGIN \"\\n\"\r\n"}, []string{"err a BAD Invalid escape in quoted string"}},
		{"literal mid line", proto.Limits{}, []string{"a LOGIN {3} x\r\n"}, []string{"err a BAD Invalid literal announcement"}},
		{"junk in atom", proto.Limits{}, []string{"a X ab\"c\r\n"}, []string{"err a BAD Invalid characters in atom"}},
		{"unclosed section", proto.Limits{}, []string{"a FETCH 1 BODY[HEADER\r\n"}, []string{"err a BAD Missing ']'"}},
		{"recovers after error", proto.Limits{}, []string{"a X (\r\n", "b NOOP\r\n"}, []string{"err a BAD Missing ')'", "cmd b NOOP "}},
		{"failed literal plus skipped", proto.Limits{}, []string{"a X ) {3+}\r\n", "abc", " {2+}\r\n", "de", "\r\n", "b NOOP\r\n"},
			[]string{"err a BAD Unexpected ')'", "lit 3 discard", "lit 2 discard", "cmd b NOOP "}},
		{"failed sync literal not read", proto.Limits{}, []string{"a X ) {3}\r\n", "b NOOP\r\n"},
			[]string{"err a BAD Unexpected ')'", "cmd b NOOP "}},

		{"line too long", proto.Limits{MaxLine: 16}, []string{"a LOGIN 0123456789\r\n", "b NOOP\r\n"},
			[]string{"err * BAD [TOOBIG] Command line too long", "cmd b NOOP "}},
		{"sync literal too big", proto.Limits{MaxLiteral: 4}, []string{"a APPEND INBOX {5}\r\n", "b NOOP\r\n"},
			[]string{"err a NO [TOOBIG] Literal too large", "cmd b NOOP "}},
		{"literal plus too big", proto.Limits{MaxLiteral: 4}, []string{"a APPEND INBOX {5+}\r\n"},
			[]string{"err a BAD [TOOBIG] Literal too large (fatal)"}},
		{"absurd literal plus", proto.Limits{}, []string{"a APPEND INBOX {99999999999999999999999+}\r\n"},
			[]string{"err a BAD [TOOBIG] Literal too large (fatal)"}},
		{"command too big", proto.Limits{MaxLiteral: 10, MaxCommand: 30}, []string{"a X {10}\r\n", "0123456789", " {10}\r\n"},
			[]string{"lit 10 sync", "err a NO [TOOBIG] Literal too large"}},
		{"too many args", proto.Limits{MaxArgs: 3}, []string{"a X 1 2 3 4\r\n", "b X 1 2 3\r\n"},
			[]string{"err a BAD [TOOBIG] Too many arguments", "cmd b X 1 2 3"}},
		{"too many args by literal", proto.Limits{MaxArgs: 2}, []string{"a X 1 {1}\r\n", "x", " 2\r\n", "b NOOP\r\n"},
			[]string{"lit 1 sync", "err a BAD [TOOBIG] Too many arguments", "cmd b NOOP "}},
		{"too deep", proto.Limits{MaxDepth: 2}, []string{"a X (((1)))\r\n", "b X ((1))\r\n"},
			[]string{"err a BAD [TOOBIG] Too deep nesting of lists", "cmd b X ((1))"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := feed(proto.NewParser(tt.lim), tt.input...)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParserMisuse(t *testing.T) {
	p := proto.NewParser(proto.Limits{})
	if _, lit, _ := p.Line([]byte("a X {3}\r\n")); lit == nil {
		t.Fatal("no literal asked for")
	}
	_, _, err := p.Line([]byte("b NOOP\r\n"))
	if !errors.Is(err, proto.ErrState) {
		t.Errorf("line while a literal is due: got %v, want ErrState", err)
	}
	if err := p.Literal([]byte("x")); !errors.Is(err, proto.ErrState) {
		t.Errorf("literal nobody asked for: got %v, want ErrState", err)
	}
	if cmd, _, err := p.Line([]byte("c NOOP\r\n")); err != nil || cmd == nil {
		t.Errorf("after misuse: got %v, %v; want a command", cmd, err)
	}
}

func TestLiteralNotCopied(t *testing.T) {
	p := proto.NewParser(proto.Limits{})
	p.Line([]byte("a APPEND INBOX {3+}\r\n"))
	buf := []byte("abc")
	p.Literal(buf)
	cmd, _, err := p.Line([]byte("\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cmd.Args[1].Data; &got[0] != &buf[0] {
		t.Error("literal was copied; want the connection's buffer kept as it is")
	}
}
