package msg_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/msg"
)

func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

func TestHeader(t *testing.T) {
	m := crlf("From: a@b.test\nSubject: hello\n  world\nX-Empty:\nTo: c@d.test\n\nbody\n")
	h, body := msg.Split(m)
	if string(body) != "body\r\n" {
		t.Errorf("body %q", body)
	}
	hdr := msg.ParseHeader(h)
	if v, _ := hdr.Get("subject"); v != "hello  world" {
		t.Errorf("Subject unfolded to %q", v)
	}
	if v, ok := hdr.Get("X-Empty"); !ok || v != "" {
		t.Errorf("X-Empty = %q, %v", v, ok)
	}
	if _, ok := hdr.Get("Cc"); ok {
		t.Error("absent Cc found")
	}
	want := "Subject: hello\r\n  world\r\nTo: c@d.test\r\n\r\n"
	if got := string(hdr.Select([]string{"TO", "SUBJECT"}, false)); got != want {
		t.Errorf("Select = %q, want %q", got, want)
	}
	want = "From: a@b.test\r\nX-Empty:\r\n\r\n"
	if got := string(hdr.Select([]string{"TO", "SUBJECT"}, true)); got != want {
		t.Errorf("Select not = %q, want %q", got, want)
	}
	if h, b := msg.Split([]byte("Subject: no body")); string(h) != "Subject: no body" || b != nil {
		t.Errorf("headers only: %q %q", h, b)
	}
}

func TestAddresses(t *testing.T) {
	tests := []struct {
		in   string
		want []msg.Address
	}{
		{`"Joe Q. Public" <john.q.public@example.com>`,
			[]msg.Address{{Name: "Joe Q. Public", Mailbox: "john.q.public", Host: "example.com"}}},
		{`Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>`, []msg.Address{
			{Name: "Mary Smith", Mailbox: "mary", Host: "x.test"},
			{Mailbox: "jdoe", Host: "example.org"},
			{Name: "Who?", Mailbox: "one", Host: "y.test"}}},
		{`A Group:Ed Jones <c@a.test>,joe@where.test;`, []msg.Address{
			{Mailbox: "A Group", Group: true},
			{Name: "Ed Jones", Mailbox: "c", Host: "a.test"},
			{Mailbox: "joe", Host: "where.test"},
			{Group: true}}},
		{`Undisclosed recipients:;`, []msg.Address{{Mailbox: "Undisclosed recipients", Group: true}, {Group: true}}},
		{`Pete(A nice \) chap) <pete(his account)@silly.test(his host)>`,
			[]msg.Address{{Name: "Pete", Mailbox: "pete", Host: "silly.test"}}},
		{`jdoe@machine.example (John Doe)`, []msg.Address{{Name: "John Doe", Mailbox: "jdoe", Host: "machine.example"}}},
		{`<@a.test,@b.test:jdoe@c.test>`, []msg.Address{{Route: "@a.test,@b.test", Mailbox: "jdoe", Host: "c.test"}}},
		{`=?utf-8?q?J=C3=B6rg?= <j@[192.0.2.1]>`, []msg.Address{{Name: "=?utf-8?q?J=C3=B6rg?=", Mailbox: "j", Host: "[192.0.2.1]"}}},
		{`root`, []msg.Address{{Mailbox: "root", Host: msg.MissingDomain}}},
		{`<>, ,`, nil},
	}
	for _, tt := range tests {
		got := msg.ParseAddressList(tt.in)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestEnvelope(t *testing.T) {
	h, _ := msg.Split(crlf("Date: Wed, 17 Jul 1996 02:23:25 -0700\nFrom: Terry Gray <gray@cac.washington.edu>\n" +
		"Subject: IMAP4rev1 WG mtg summary and minutes\nTo: imap@cac.washington.edu\nReply-To:\n" +
		"Message-Id: <B27397-0100000@cac.washington.edu>\n\n"))
	e := msg.ParseEnvelope(msg.ParseHeader(h))
	from := []msg.Address{{Name: "Terry Gray", Mailbox: "gray", Host: "cac.washington.edu"}}
	want := &msg.Envelope{
		Date: "Wed, 17 Jul 1996 02:23:25 -0700", Subject: "IMAP4rev1 WG mtg summary and minutes",
		From: from, Sender: from, ReplyTo: from,
		To:        []msg.Address{{Mailbox: "imap", Host: "cac.washington.edu"}},
		MessageID: "<B27397-0100000@cac.washington.edu>",
	}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestMIME(t *testing.T) {
	m := crlf(`From: a@b.test
Content-Type: multipart/mixed; boundary="XX"

preamble
--XX
Content-Type: text/plain; charset=utf-8

hello
--XX
Content-Type: message/rfc822
Content-Disposition: attachment; filename="m.eml"

Subject: inner
Content-Type: multipart/alternative; boundary=YY

--YY

inner text
--YY
Content-Type: text/html

<b>hi</b>
--YY--
--XX--
epilogue
`)
	p := msg.Parse(m)
	if p.Type != "multipart" || p.Subtype != "mixed" || len(p.Parts) != 2 {
		t.Fatalf("root %s/%s with %d parts", p.Type, p.Subtype, len(p.Parts))
	}
	if got := string(p.Find([]int{1}).Body); got != "hello" {
		t.Errorf("part 1 = %q", got)
	}
	att := p.Find([]int{2})
	if att.Message == nil || att.Disposition != "attachment" || att.DispParams["filename"] != "m.eml" {
		t.Fatalf("part 2: %+v", att)
	}
	if got := string(p.Find([]int{2, 1}).Body); got != "inner text" {
		t.Errorf("part 2.1 = %q", got)
	}
	if got := p.Find([]int{2, 2}); got == nil || got.Subtype != "html" || len(got.Params) != 0 || got.Lines != 1 {
		t.Errorf("part 2.2 = %+v", got)
	}
	if got := p.Find([]int{2, 1}).Params["charset"]; got != "us-ascii" {
		t.Errorf("default charset %q", got)
	}
	for _, nums := range [][]int{{3}, {1, 2}, {2, 3}} {
		if p.Find(nums) != nil {
			t.Errorf("Find(%v) found a part", nums)
		}
	}
	single := msg.Parse(crlf("Subject: x\n\nline1\nline2\n"))
	if single.Find([]int{1}) != single || single.Lines != 2 || single.Encoding != "7BIT" {
		t.Errorf("single part: %+v", single)
	}
}

// FuzzMIME checks that no message makes the parsers panic or loop, and
// that every part's body lies inside the message.
func FuzzMIME(f *testing.F) {
	f.Add(crlf("Content-Type: multipart/mixed; boundary=a\n\n--a\n\nx\n--a--\n"))
	f.Add(crlf("Content-Type: message/rfc822\n\nContent-Type: message/rfc822\n\n"))
	f.Add([]byte("From: \"a\\\" (b <c@d>, e:f;g\r\nTo: ((x)\r\n\r\n"))
	f.Fuzz(func(t *testing.T, m []byte) {
		p := msg.Parse(m)
		var walk func(p *msg.Part, depth int)
		walk = func(p *msg.Part, depth int) {
			if depth > msg.MaxDepth+1 || len(p.Body) > len(m) {
				t.Fatalf("depth %d, body %d of %d", depth, len(p.Body), len(m))
			}
			for _, c := range p.Parts {
				walk(c, depth+1)
			}
			if p.Message != nil {
				walk(p.Message, depth+1)
			}
		}
		walk(p, 0)
		msg.ParseEnvelope(p.Header)
	})
}
