package tour

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/tsocket"
)

// lineSession is a server and a client joined by a socketpair on the loop.
func (t *tour) lineSession(cfg imap.Config) (*imap.Server, *imap.Client, func(), error) {
	srvSide, cliSide, err := tsocket.Socketpair(t.ev)
	if err != nil {
		return nil, nil, nil, err
	}
	l, err := tsocket.Listen(t.ev, loopback()) // the server wants one; unused here
	if err != nil {
		srvSide.Close()
		cliSide.Close()
		return nil, nil, nil, err
	}
	srv := imap.NewServer(t.ev, l, cfg)
	srv.Serve(srvSide)
	return srv, imap.NewClient(t.ev, cliSide), func() { srv.Close(); cliSide.Close() }, nil
}

func (t *tour) imapIdle() (string, error) {
	_, c, stop, err := t.lineSession(imap.Config{Update: 20 * time.Millisecond, KeepAlive: 15 * time.Millisecond, IdleTimeout: time.Minute})
	if err != nil {
		return "", err
	}
	defer stop()
	var log []string
	expect := func(want string) error {
		got, err := c.ReadLine()
		if err != nil {
			return err
		}
		log = append(log, got)
		if want != "" && got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	}
	steps := []func() error{
		func() error { return expect("* OK gotevent demo ready") },
		func() error { return c.Send("a1 IDLE") },
		func() error { return expect("+ idling") },
	}
	for _, f := range steps {
		if err := f(); err != nil {
			return "", err
		}
	}
	pushed := 0
	for pushed < 2 { // two pushes from the wait event: an update and a keep-alive
		if err := expect(""); err != nil {
			return "", err
		}
		pushed++
	}
	// Input while IDLE runs is read at once: a stray command is refused,
	// DONE ends it.
	if err := c.Send("a2 NOOP"); err != nil {
		return "", err
	}
	if err := c.Send("DONE"); err != nil {
		return "", err
	}
	for {
		got, err := c.ReadLine()
		if err != nil {
			return "", err
		}
		if got == "a1 OK IDLE terminated" {
			log = append(log, got)
			break
		}
		if got == "* BAD expected DONE" {
			log = append(log, got)
		}
	}
	if err := c.Send("a3 LOGOUT"); err != nil {
		return "", err
	}
	if err := expect("* BYE logging out"); err != nil {
		return "", err
	}
	return "server said: " + strings.Join(log[1:], " / "), nil
}

func (t *tour) idleTimeout() (string, error) {
	_, c, stop, err := t.lineSession(imap.Config{IdleTimeout: 50 * time.Millisecond})
	if err != nil {
		return "", err
	}
	defer stop()
	start := time.Now()
	if _, err := c.ReadLine(); err != nil { // the greeting
		return "", err
	}
	bye, err := c.ReadLine() // then silence, until the server gives up
	if err != nil {
		return "", err
	}
	if _, err := c.ReadLine(); !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("after BYE: %v, want EOF", err)
	}
	return fmt.Sprintf("silent client got %q and EOF after %v (timeout 50ms)", bye, time.Since(start).Round(time.Millisecond)), nil
}
