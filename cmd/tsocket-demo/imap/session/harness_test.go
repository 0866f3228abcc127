package session_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
)

var t0 = time.Date(1996, 7, 17, 2, 44, 25, 0, time.FixedZone("", -7*3600))

func clock() time.Time { return t0 }

// fakeOut is the connection's output queue: it records every Write.
type fakeOut struct {
	writes [][]byte
	buf    bytes.Buffer
}

func (o *fakeOut) Write(b ...[]byte) {
	for _, x := range b {
		o.writes = append(o.writes, x)
		o.buf.Write(x)
	}
}

// take returns what was written since the last take.
func (o *fakeOut) take() string {
	s := o.buf.String()
	o.buf.Reset()
	return s
}

// server is one Config shared by the clients of a test.
type server struct {
	cfg *session.Config
}

func newServer(t *testing.T, mod ...func(*session.Config)) *server {
	t.Helper()
	users, err := mail.ParseUsers(strings.NewReader("demo:demo\nmrc:secret\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &session.Config{
		Store: mail.NewStore(mail.NewMemory(clock)),
		Users: users,
		Now:   clock,
	}
	for _, m := range mod {
		m(cfg)
	}
	return &server{cfg: cfg}
}

// eachBackend runs fn once per storage backend: the session's behaviour
// must not depend on where the mail lives.
func eachBackend(t *testing.T, fn func(t *testing.T, backend func(*session.Config))) {
	t.Run("memory", func(t *testing.T) { fn(t, func(*session.Config) {}) })
	t.Run("maildir", func(t *testing.T) {
		b, err := mail.NewMaildir(t.TempDir(), clock)
		if err != nil {
			t.Fatal(err)
		}
		fn(t, func(c *session.Config) { c.Store = mail.NewStore(b) })
	})
}

// inbox returns a user's INBOX, to fill it behind the sessions' backs.
func (srv *server) inbox(t *testing.T, user string) *mail.Mailbox {
	t.Helper()
	a, err := srv.cfg.Store.Account(user)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := a.Mailbox("INBOX")
	if err != nil {
		t.Fatal(err)
	}
	return mb
}

// client drives a session the way a connection would.
type client struct {
	t    *testing.T
	s    *session.Session
	out  *fakeOut
	next session.Next
	max  int
	tls  int // StartTLS requests seen
}

func (srv *server) connect(t *testing.T) *client {
	t.Helper()
	c := &client{t: t, out: &fakeOut{}, max: proto.DefaultLimits().MaxLine}
	if srv.cfg.Limits.MaxLine > 0 {
		c.max = srv.cfg.Limits.MaxLine
	}
	c.s = session.New(srv.cfg, c.out)
	c.next = c.s.Greet()
	c.out.take()
	t.Cleanup(c.s.Close)
	return c
}

// feed gives the session client bytes as a connection would: a line at a
// time, literals in one piece when asked for, drains when asked for.
func (c *client) feed(input string) {
	c.t.Helper()
	for {
		for c.next.Op == session.WaitDrain {
			c.next = c.s.Drained()
		}
		if c.next.Op == session.StartTLS {
			c.tls++
			c.next = c.s.TLSStarted()
		}
		if input == "" {
			return
		}
		switch c.next.Op {
		case session.Close:
			c.t.Fatalf("input %q after Close", input)
		case session.ReadLiteral:
			n := int(c.next.Size)
			if n > len(input) {
				c.t.Fatalf("literal of %d bytes asked, %d left", n, len(input))
			}
			data := []byte(input[:n])
			input = input[n:]
			c.next = c.s.Literal(data)
		case session.ReadLine:
			i := strings.IndexByte(input, '\n')
			if i < 0 {
				c.t.Fatalf("partial line %q", input)
			}
			line := input[:i+1]
			input = input[i+1:]
			if len(line) > c.max {
				c.next = c.s.LineTooLong()
			} else {
				c.next = c.s.Line([]byte(line))
			}
		}
	}
}

// do sends one line (CRLF added) and returns the server's answer.
func (c *client) do(line string) string {
	c.t.Helper()
	c.feed(line + "\r\n")
	return c.out.take()
}

// expect sends a line and compares the answer with want, given as lines
// without CRLF.
func (c *client) expect(line string, want ...string) {
	c.t.Helper()
	got := c.do(line)
	if diff := cmp.Diff(strings.Join(want, "\r\n")+"\r\n", got); diff != "" {
		c.t.Errorf("C: %s\nmismatch (-want +got):\n%s", line, diff)
	}
}

// login logs in as demo and selects INBOX, discarding the output.
func (c *client) login(mailbox string) *client {
	c.t.Helper()
	if out := c.do("l1 LOGIN demo demo"); !strings.Contains(out, "l1 OK") {
		c.t.Fatalf("login: %s", out)
	}
	if mailbox != "" {
		if out := c.do("l2 SELECT " + mailbox); !strings.Contains(out, "l2 OK") {
			c.t.Fatalf("select: %s", out)
		}
	}
	return c
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// add appends messages to mb, failing the test on error.
func add(t *testing.T, mb *mail.Mailbox, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if _, err := mb.Append([]byte(crlf(m)), nil, t0); err != nil {
			t.Fatal(err)
		}
	}
}
