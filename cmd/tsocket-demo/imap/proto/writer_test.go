package proto_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

type fakeOut struct{ writes [][][]byte }

func (o *fakeOut) Write(b ...[]byte) { o.writes = append(o.writes, b) }

func (o *fakeOut) String() string {
	var s strings.Builder
	for _, w := range o.writes {
		s.Write(bytes.Join(w, nil))
	}
	return s.String()
}

func TestWriter(t *testing.T) {
	out := &fakeOut{}
	w := proto.NewWriter(out)
	body := bytes.Repeat([]byte("x"), 2000)
	w.Raw("* 1 FETCH (BODY[] ")
	w.Literal(body)
	w.Raw(" ENVELOPE (")
	w.NString("")
	w.Byte(' ')
	w.String(`a "q" \`)
	w.Byte(' ')
	w.String("caf\xc3\xa9")
	w.Byte(' ')
	w.AString("INBOX")
	w.Byte(' ')
	w.AString("Sent Items")
	w.Raw("))")
	w.CRLF()
	w.Status("a1", "OK", "READ-WRITE", "SELECT completed")
	if w.Len() == 0 {
		t.Error("Len() = 0 before Flush")
	}
	w.Flush()
	w.Flush()
	if len(out.writes) != 1 {
		t.Fatalf("%d writes, want 1 per Flush with data", len(out.writes))
	}
	want := "* 1 FETCH (BODY[] {2000}\r\n" + string(body) +
		` ENVELOPE (NIL "a \"q\" \\" {5}` + "\r\ncaf\xc3\xa9 INBOX \"Sent Items\"))\r\n" +
		"a1 OK [READ-WRITE] SELECT completed\r\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	shared := false
	for _, b := range out.writes[0] {
		if len(b) > 0 && &b[0] == &body[0] {
			shared = true
		}
	}
	if !shared {
		t.Error("a long literal was copied; want the caller's slice passed to Out")
	}
}

func TestWriterStatusText(t *testing.T) {
	out := &fakeOut{}
	w := proto.NewWriter(out)
	w.Status("a", "BAD", "", "Unknown command X\xff\x01")
	w.Flush()
	if got := out.String(); got != "a BAD Unknown command X??\r\n" {
		t.Errorf("got %q: client bytes echoed in a response must stay printable ASCII", got)
	}
}
