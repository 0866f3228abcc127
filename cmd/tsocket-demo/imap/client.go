package imap

import (
	"strings"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Client reads and writes CRLF lines on a stream, for the tour and for
// tests that talk to a server on the same loop. It belongs to the loop
// goroutine; the synchronous forms run the loop themselves.
type Client struct {
	ev *tevent.Context
	s  *tsocket.Stream
	r  *tsocket.Reader
}

// NewClient reads lines from s, of up to 64 KiB each.
func NewClient(ev *tevent.Context, s *tsocket.Stream) *Client {
	return &Client{ev: ev, s: s, r: tsocket.NewReader(ev, s, 64<<10)}
}

// ReadLineSend reads the next line, without its CRLF.
func (c *Client) ReadLineSend() *tevent.Req[string] {
	req := tevent.NewReq[string](c.ev)
	subreq := tsocket.ReadUntilSend(c.ev, c.r, lf)
	req.AddSubreq(subreq)
	subreq.SetCallback(func(subreq *tevent.Req[[]byte]) {
		line, err := tsocket.ReadUntilRecv(subreq)
		if req.Error(err) {
			return
		}
		req.Done(strings.TrimRight(string(line), "\r\n"))
	})
	return req
}

// ReadLine is the synchronous form: it runs the loop until a line arrives.
func (c *Client) ReadLine() (string, error) {
	req := c.ReadLineSend()
	if err := req.Poll(); err != nil {
		return "", err
	}
	return req.Recv()
}

// Send writes a line with CRLF, running the loop until it is written.
func (c *Client) Send(line string) error {
	req := tsocket.WritevSend(c.ev, c.s, [][]byte{[]byte(line + "\r\n")})
	if err := req.Poll(); err != nil {
		return err
	}
	_, err := tsocket.WritevRecv(req)
	return err
}
