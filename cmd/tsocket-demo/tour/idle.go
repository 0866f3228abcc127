package tour

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
	"github.com/gotevent/gotevent/tsocket"
)

// imapServer is the demo's IMAP server on the tour's loop, with mail in
// memory and the one user demo:demo. Its clients come over socketpairs
// (connect); the listener it wants is never used.
type imapServer struct {
	t   *tour
	srv *imap.Server
}

func (t *tour) imapServer(cfg imap.Config) (*imapServer, error) {
	l, err := tsocket.Listen(t.ev, loopback())
	if err != nil {
		return nil, err
	}
	cfg.Session = session.Config{Store: mail.NewStore(mail.NewMemory(time.Now)), Users: mail.DefaultUsers()}
	srv, err := imap.NewServer(t.ev, l, cfg)
	if err != nil {
		l.Close()
		return nil, err
	}
	return &imapServer{t: t, srv: srv}, nil
}

// connect returns a client of the server, greeting read.
func (is *imapServer) connect() (*imap.Client, func(), error) {
	srvSide, cliSide, err := tsocket.Socketpair(is.t.ev)
	if err != nil {
		return nil, nil, err
	}
	is.srv.Serve(srvSide)
	c := imap.NewClient(is.t.ev, cliSide)
	if _, err := c.ReadLine(); err != nil {
		cliSide.Close()
		return nil, nil, err
	}
	return c, func() { cliSide.Close() }, nil
}

// command sends a tagged command and returns the untagged lines before
// its tagged reply, which must be OK.
func command(c *imap.Client, tag, cmd string) ([]string, error) {
	if err := c.Send(tag + " " + cmd); err != nil {
		return nil, err
	}
	var untagged []string
	for {
		l, err := c.ReadLine()
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(l, tag+" ") {
			if !strings.HasPrefix(l, tag+" OK") {
				return nil, fmt.Errorf("%s: %s", cmd, l)
			}
			return untagged, nil
		}
		untagged = append(untagged, l)
	}
}

func expectLine(c *imap.Client, want string) error {
	got, err := c.ReadLine()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

// imapIdle: one session IDLEs in INBOX, another APPENDs to it, and the
// first is told at once; a keep-alive comes from its wait event.
func (t *tour) imapIdle() (string, error) {
	is, err := t.imapServer(imap.Config{KeepAlive: 20 * time.Millisecond})
	if err != nil {
		return "", err
	}
	defer is.srv.Close()
	idler, closeIdler, err := is.connect()
	if err != nil {
		return "", err
	}
	defer closeIdler()
	other, closeOther, err := is.connect()
	if err != nil {
		return "", err
	}
	defer closeOther()
	for _, c := range []*imap.Client{idler, other} {
		if _, err := command(c, "a1", "LOGIN demo demo"); err != nil {
			return "", err
		}
	}
	if _, err := command(idler, "a2", "SELECT INBOX"); err != nil {
		return "", err
	}
	if err := idler.Send("a3 IDLE"); err != nil {
		return "", err
	}
	if err := expectLine(idler, "+ idling"); err != nil {
		return "", err
	}
	msg := "Subject: tour\r\n\r\nhello\r\n"
	if _, err := command(other, "b1", fmt.Sprintf("APPEND INBOX {%d+}\r\n%s", len(msg), msg)); err != nil {
		return "", err
	}
	var seen []string
	for len(seen) < 3 { // EXISTS and RECENT, then a keep-alive
		l, err := idler.ReadLine()
		if err != nil {
			return "", err
		}
		seen = append(seen, l)
	}
	if seen[0] != "* 1 EXISTS" || seen[2] != "* OK Still here" {
		return "", fmt.Errorf("during IDLE: %q", seen)
	}
	if err := idler.Send("DONE"); err != nil {
		return "", err
	}
	for {
		l, err := idler.ReadLine()
		if err != nil {
			return "", err
		}
		if l == "a3 OK IDLE terminated" {
			break
		}
	}
	return "the idler heard " + strings.Join(seen, " / ") + ", then DONE", nil
}

// idleTimeout: a client that says nothing is logged out.
func (t *tour) idleTimeout() (string, error) {
	is, err := t.imapServer(imap.Config{IdleTimeout: 50 * time.Millisecond})
	if err != nil {
		return "", err
	}
	defer is.srv.Close()
	start := time.Now()
	c, closeClient, err := is.connect()
	if err != nil {
		return "", err
	}
	defer closeClient()
	bye, err := c.ReadLine() // silence, until the server gives up
	if err != nil {
		return "", err
	}
	if _, err := c.ReadLine(); !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("after BYE: %v, want EOF", err)
	}
	return fmt.Sprintf("silent client got %q and EOF after %v (timeout 50ms)", bye, time.Since(start).Round(time.Millisecond)), nil
}
