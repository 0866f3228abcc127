package imap

import (
	"github.com/gotevent/gotevent/cmd/tsocket-demo/demoserver"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Client reads CRLF lines from a stream, for the tour and for tests that
// talk to a server on the same loop. It belongs to the loop goroutine; the
// synchronous forms run the loop themselves.
type Client struct {
	ev *tevent.Context
	s  *tsocket.Stream
	r  demoserver.Reader
}

// NewClient reads lines from s.
func NewClient(ev *tevent.Context, s *tsocket.Stream) *Client {
	return &Client{ev: ev, s: s, r: demoserver.NewPDUReader(MaxLine, lineComplete)}
}

// lineComplete tells the reader whether buf holds a whole line.
func lineComplete(buf []byte) (bool, error) {
	_, n, err := NextLine(buf)
	return n > 0, err
}

// ReadLineSend reads the next line (without CRLF).
func (c *Client) ReadLineSend() *tevent.Req[string] {
	req := tevent.NewReq[string](c.ev)
	if line, ok := c.take(); ok { // already buffered
		req.Done(line)
		return req.Post()
	}
	subreq := tsocket.ReadvPDUSend(c.ev, c.s, c.r.NextVector)
	req.AddSubreq(subreq)
	subreq.SetCallback(func(subreq *tevent.Req[struct{}]) {
		if req.Error(tsocket.ReadvPDURecv(subreq)) {
			return
		}
		line, _ := c.take()
		req.Done(line)
	})
	return req
}

func (c *Client) take() (string, bool) {
	line, n, err := NextLine(c.r.Buffered())
	if err != nil || n == 0 {
		return "", false
	}
	s := string(line)
	c.r.Consume(n)
	return s, true
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
