package session_test

import (
	"encoding/base64"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

func plain(authz, user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + user + "\x00" + pass))
}

const loggedInCaps = "[CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS] Logged in"

func TestLogin(t *testing.T) {
	srv := newServer(t)
	c := srv.connect(t)
	c.expect("a CAPABILITY",
		"* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS AUTH=PLAIN",
		"a OK CAPABILITY completed")
	c.expect("b SELECT INBOX", "b BAD Log in first")
	c.expect("c LOGIN demo wrong", "c NO [AUTHENTICATIONFAILED] Authentication failed")
	c.expect("d LOGIN nobody demo", "d NO [AUTHENTICATIONFAILED] Authentication failed")
	c.expect("e LOGIN demo", "e BAD Missing argument")
	c.expect(`f LOGIN "demo" {4+}`+"\r\ndemo", "f OK "+loggedInCaps)
	c.expect("g LOGIN demo demo", "g BAD Already logged in")
	c.expect("h FETCH 1 FLAGS", "h BAD No mailbox selected")
	c.expect("i CAPABILITY",
		"* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS",
		"i OK CAPABILITY completed")
}

func TestAuthenticatePlain(t *testing.T) {
	srv := newServer(t)
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"continuation", []string{"a AUTHENTICATE PLAIN", plain("", "demo", "demo")},
			[]string{"+ ", "a OK " + loggedInCaps}},
		{"initial response", []string{"a AUTHENTICATE plain " + plain("demo", "demo", "demo")},
			[]string{"a OK " + loggedInCaps}},
		{"cancelled", []string{"a AUTHENTICATE PLAIN", "*"}, []string{"+ ", "a BAD Authentication cancelled"}},
		{"bad base64", []string{"a AUTHENTICATE PLAIN", "!!!"}, []string{"+ ", "a BAD Invalid base64 data"}},
		{"not plain", []string{"a AUTHENTICATE PLAIN " + base64.StdEncoding.EncodeToString([]byte("demo"))},
			[]string{"a BAD Invalid PLAIN response"}},
		{"wrong password", []string{"a AUTHENTICATE PLAIN " + plain("", "demo", "x")},
			[]string{"a NO [AUTHENTICATIONFAILED] Authentication failed"}},
		{"empty initial response", []string{"a AUTHENTICATE PLAIN ="}, []string{"a BAD Invalid PLAIN response"}},
		{"other user", []string{"a AUTHENTICATE PLAIN " + plain("mrc", "demo", "demo")},
			[]string{"a NO [AUTHORIZATIONFAILED] Cannot log in as another user"}},
		{"mechanism", []string{"a AUTHENTICATE CRAM-MD5"}, []string{"a NO Unsupported authentication mechanism"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := srv.connect(t)
			var got string
			for _, l := range tt.lines {
				got += c.do(l)
			}
			want := ""
			for _, w := range tt.want {
				want += w + "\r\n"
			}
			if got != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestStartTLS(t *testing.T) {
	srv := newServer(t, func(c *session.Config) { c.TLS = true })
	c := srv.connect(t)
	c.expect("a CAPABILITY",
		"* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS STARTTLS AUTH=PLAIN",
		"a OK CAPABILITY completed")
	// The connection must run the handshake before reading again.
	c.feed("b STARTTLS\r\n")
	if c.tls != 1 || c.out.take() != "b OK Begin TLS negotiation now\r\n" {
		t.Fatalf("STARTTLS: %d handshakes", c.tls)
	}
	c.expect("c CAPABILITY",
		"* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS AUTH=PLAIN",
		"c OK CAPABILITY completed")
	c.expect("d STARTTLS", "d BAD TLS is already active")

	// A line where the handshake should be is refused, not run.
	c = srv.connect(t)
	c.s.Line([]byte("e STARTTLS\r\n"))
	c.out.take()
	if n := c.s.Line([]byte("f LOGIN demo demo\r\n")); n.Op != session.Close {
		t.Errorf("line before TLSStarted: %+v, want Close", n)
	}
	if got := c.out.take(); got != "* BYE Expected TLS negotiation\r\n" {
		t.Errorf("got %q", got)
	}

	plainSrv := newServer(t)
	c = plainSrv.connect(t)
	c.expect("a STARTTLS", "a BAD STARTTLS is not available")
}

func TestMalformed(t *testing.T) {
	srv := newServer(t, func(c *session.Config) { c.Limits.MaxLine = 64 })
	c := srv.connect(t)
	c.login("INBOX")
	c.expect("a BOGUS", "a BAD Unknown command BOGUS")
	c.expect("* NOOP", "* BAD Invalid tag")
	c.expect("b FETCH 1:2 (FLAGS", "b BAD Missing ')'")
	c.expect("c FETCH x FLAGS", "c BAD Invalid sequence set")
	c.expect("d FETCH 1 FLAGS", "d BAD Invalid message sequence number")
	c.expect("e UID", "e BAD UID needs a command")
	c.expect("f UID BOGUS 1", "f BAD Unknown UID command BOGUS")
	c.expect("g NOOP extra", "g BAD Unexpected extra arguments")
	c.expect("h LOGIN "+string(make([]byte, 80)), "* BAD [TOOBIG] Command line too long")
	c.expect("i NOOP", "i OK NOOP completed")
	c.expect("j DELETE INBOX", "j NO [CANNOT] This server does not delete or rename mailboxes")
}
