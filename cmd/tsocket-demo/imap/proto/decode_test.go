package proto_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// parseArgs parses one complete line and returns a cursor over its
// arguments.
func parseArgs(t *testing.T, line string) *proto.Cursor {
	t.Helper()
	cmd, lit, err := proto.NewParser(proto.Limits{}).Line([]byte(line + "\r\n"))
	if err != nil || lit != nil || cmd == nil {
		t.Fatalf("parse %q: %v %v %v", line, cmd, lit, err)
	}
	return cmd.Cursor()
}

func TestSeqSet(t *testing.T) {
	tests := []struct {
		in   string
		want proto.SeqSet
		err  bool
	}{
		{in: "1", want: proto.SeqSet{{1, 1}}},
		{in: "1:3,5,7:*", want: proto.SeqSet{{1, 3}, {5, 5}, {7, 0}}},
		{in: "*:4", want: proto.SeqSet{{0, 4}}},
		{in: "4294967295", want: proto.SeqSet{{4294967295, 4294967295}}},
		{in: "0", err: true},
		{in: "01", err: true},
		{in: "1,", err: true},
		{in: "1:", err: true},
		{in: "4294967296", err: true},
		{in: "a", err: true},
	}
	for _, tt := range tests {
		got, err := proto.ParseSeqSet(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("ParseSeqSet(%q) error %v, want error %v", tt.in, err, tt.err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseSeqSet(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
		if !tt.err && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
	set, _ := proto.ParseSeqSet("559:*")
	if !set.Contains(3, 3) {
		t.Error(`559:* must contain the last message even below 559 (RFC 3501 6.4.8)`)
	}
	if got := proto.FormatSet([]uint32{1, 2, 3, 7, 9, 10}); got != "1:3,7,9:10" {
		t.Errorf("FormatSet = %q", got)
	}
}

func TestParseFetch(t *testing.T) {
	tests := []struct {
		line   string
		want   []proto.FetchItem
		labels []string
	}{
		{"FAST", []proto.FetchItem{{Name: "FLAGS"}, {Name: "INTERNALDATE"}, {Name: "RFC822.SIZE"}}, nil},
		{"uid", []proto.FetchItem{{Name: "UID"}}, []string{"UID"}},
		{"(FLAGS BODY[])", []proto.FetchItem{{Name: "FLAGS"}, {Name: proto.BodySection, Section: &proto.Section{}}},
			[]string{"FLAGS", "BODY[]"}},
		{"body.peek[header.fields (From \"Subject\")]<0.100>", []proto.FetchItem{{
			Name: proto.BodySection, Peek: true, Partial: true, Count: 100,
			Section: &proto.Section{Spec: "HEADER.FIELDS", Fields: []string{"FROM", "SUBJECT"}},
		}}, []string{"BODY[HEADER.FIELDS (FROM SUBJECT)]<0>"}},
		{"BODY[1.2.MIME]", []proto.FetchItem{{Name: proto.BodySection, Section: &proto.Section{Part: []int{1, 2}, Spec: "MIME"}}},
			[]string{"BODY[1.2.MIME]"}},
		{"BODY[HEADER.FIELDS.NOT (X-A)]<5.10>", []proto.FetchItem{{
			Name: proto.BodySection, Partial: true, Offset: 5, Count: 10,
			Section: &proto.Section{Spec: "HEADER.FIELDS.NOT", Fields: []string{"X-A"}},
		}}, []string{"BODY[HEADER.FIELDS.NOT (X-A)]<5>"}},
	}
	for _, tt := range tests {
		got, err := proto.ParseFetch(parseArgs(t, "a FETCH "+tt.line))
		if err != nil {
			t.Errorf("%s: %v", tt.line, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.line, diff)
		}
		for i, l := range tt.labels {
			if got[i].Label() != l {
				t.Errorf("%s: Label() = %q, want %q", tt.line, got[i].Label(), l)
			}
		}
	}
	for _, bad := range []string{"BOGUS", "()", "BODY[FOO]", "BODY[HEADER.FIELDS]", "BODY[]<1>",
		"BODY[]<1.0>", "BODY[MIME]", "BODY[0]", "BODY.PEK[]", `"FLAGS"`, `BODY[HEADER.FIELDS ("A B")]`,
		"BODY[HEADER.FIELDS (A:)]"} {
		if _, err := proto.ParseFetch(parseArgs(t, "a FETCH "+bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestParseSearch(t *testing.T) {
	date := time.Date(1994, 2, 1, 0, 0, 0, 0, time.UTC)
	_, got, err := proto.ParseSearch(parseArgs(t,
		`a SEARCH CHARSET UTF-8 FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith" OR (UID 1:5 LARGER 10) 2,4:* HEADER X-Y ""`))
	if err != nil {
		t.Fatal(err)
	}
	want := proto.SearchKey{Op: "AND", Sub: []proto.SearchKey{
		{Op: "FLAGGED"},
		{Op: "SINCE", Date: date},
		{Op: "NOT", Sub: []proto.SearchKey{{Op: "FROM", Value: "Smith"}}},
		{Op: "OR", Sub: []proto.SearchKey{
			{Op: "AND", Sub: []proto.SearchKey{{Op: "UID", Set: proto.SeqSet{{1, 5}}}, {Op: "LARGER", Size: 10}}},
			{Op: "SEQ", Set: proto.SeqSet{{2, 2}, {4, 0}}},
		}},
		{Op: "HEADER", Field: "X-Y"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "FROM", "OR SEEN", "SINCE 31-Foo-1994", "BOGUS", "()", "LARGER x"} {
		if _, _, err := proto.ParseSearch(parseArgs(t, "a SEARCH "+bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestDates(t *testing.T) {
	d, err := proto.ParseDateTime("17-jul-1996 02:44:25 -0700")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Format(proto.DateTimeFormat); got != "17-Jul-1996 02:44:25 -0700" {
		t.Errorf("got %s", got)
	}
	for _, s := range []string{" 7-Jul-1996 02:44:25 +0000", "7-Jul-1996 02:44:25 +0000", "07-Jul-1996 02:44:25 +0000"} {
		if d, err := proto.ParseDateTime(s); err != nil || d.Day() != 7 {
			t.Errorf("ParseDateTime(%q) = %v, %v", s, d, err)
		}
	}
	if _, err := proto.ParseDateTime("7-Jul-1996"); err == nil {
		t.Error("a date without time parsed as date-time")
	}
	if d, err := proto.ParseDate("1-FEB-1994"); err != nil || d.Month() != time.February {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
}

func TestCursor(t *testing.T) {
	c := parseArgs(t, `a APPEND inbox (\Seen $Junk) "7-Jul-1996 02:44:25 +0000" x`)
	mbox, _ := c.Mailbox()
	flags, err := c.FlagList()
	if err != nil || mbox != "INBOX" {
		t.Fatalf("mailbox %q flags %v err %v", mbox, flags, err)
	}
	if diff := cmp.Diff([]string{`\Seen`, "$Junk"}, flags); diff != "" {
		t.Errorf("flags mismatch (-want +got):\n%s", diff)
	}
	if s, err := c.String(); err != nil || s == "" {
		t.Errorf("date string %q %v", s, err)
	}
	if err := c.End(); err == nil {
		t.Error("End with an argument left: no error")
	}
	c = parseArgs(t, `a STORE \Seen \`)
	if _, err := c.StoreFlags(); err == nil {
		t.Error(`flag "\" accepted`)
	}
	c = parseArgs(t, `a STORE \Seen foo`)
	if f, err := c.StoreFlags(); err != nil || len(f) != 2 {
		t.Errorf("store flags without parens: %v %v", f, err)
	}
}
