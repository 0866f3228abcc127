package demo

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// LineClient reads CRLF lines from a stream, for the tour and for tests
// that talk to a server on the same loop.
type LineClient struct {
	ev *tevent.Context
	s  *tsocket.Stream
	r  reader
}

// NewLineClient reads lines from s.
func NewLineClient(ev *tevent.Context, s *tsocket.Stream) *LineClient {
	c := &LineClient{ev: ev, s: s}
	c.r = reader{max: MaxLine, complete: func(buf []byte) (bool, error) {
		_, n, err := NextLine(buf)
		return n > 0, err
	}}
	return c
}

// ReadLineSend reads the next line (without CRLF).
func (c *LineClient) ReadLineSend() *tevent.Req[string] {
	req := tevent.NewReq[string](c.ev)
	if line, ok := c.take(); ok { // already buffered
		req.Done(line)
		return req.Post()
	}
	subreq := tsocket.ReadvPDUSend(c.ev, c.s, c.r.next)
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

func (c *LineClient) take() (string, bool) {
	line, n, err := NextLine(c.r.in)
	if err != nil || n == 0 {
		return "", false
	}
	s := string(line)
	c.r.consume(n)
	return s, true
}

// ReadLine is the synchronous form: it runs the loop until a line arrives.
func (c *LineClient) ReadLine() (string, error) {
	req := c.ReadLineSend()
	if err := req.Poll(); err != nil {
		return "", err
	}
	return req.Recv()
}

// Send writes a line with CRLF, running the loop until it is written.
func (c *LineClient) Send(line string) error {
	req := tsocket.WritevSend(c.ev, c.s, [][]byte{[]byte(line + "\r\n")})
	if err := req.Poll(); err != nil {
		return err
	}
	_, err := tsocket.WritevRecv(req)
	return err
}
