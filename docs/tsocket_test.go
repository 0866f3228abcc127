package docs_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"net"
	"slices"
	"strings"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
	"github.com/gotevent/gotevent/tsocket"
)

// Addresses are values; String gives the form ParseAddress reads back.
func Example_addresses() {
	a, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 8080)
	b, _ := tsocket.ParseAddress("ipv6:[::1]:53")
	c, _ := tsocket.UnixAddress("/run/demo.sock")
	fmt.Println(a, b, c)

	_, err := tsocket.InetAddress("ip", "localhost", 80) // never resolved
	fmt.Println(errors.Is(err, tsocket.ErrInvalidAddress))
	// Output:
	// ipv4:127.0.0.1:8080 ipv6:[::1]:53 unix:/run/demo.sock
	// true
}

// acceptLoop accepts connections on l, handing each to serve, until l is
// closed.
func acceptLoop(ev *tevent.Context, l *tsocket.Listener, serve func(*tsocket.Stream)) {
	subreq := tsocket.AcceptSend(ev, l)
	subreq.SetCallback(func(subreq *tevent.Req[*tsocket.Stream]) {
		s, err := tsocket.AcceptRecv(subreq)
		switch {
		case errors.Is(err, net.ErrClosed):
			return // the listener is closed: stop accepting
		case err != nil:
			log.Printf("accept: %v", err) // one connection lost; go on
		default:
			serve(s)
		}
		acceptLoop(ev, l, serve)
	})
}

var errLineTooLong = errors.New("line too long")

// lineReader splits a stream into lines with ReadvPDU. Bytes read past the
// end of a line stay in buf for the next one.
type lineReader struct {
	buf []byte // input not yet returned by line
	n   int    // bytes of buf's spare room handed out in the last vector
	max int    // longest line, newline included
}

// next is the NextVectorFunc: it finishes the PDU once buf holds a whole
// line, and otherwise asks for what the socket already holds, at least one
// byte.
func (r *lineReader) next(s *tsocket.Stream) ([][]byte, error) {
	r.buf = r.buf[:len(r.buf)+r.n] // the last vector has been filled
	r.n = 0
	if bytes.IndexByte(r.buf, '\n') >= 0 {
		return nil, nil // a whole line is here: the PDU is complete
	}
	if len(r.buf) >= r.max {
		return nil, errLineTooLong
	}
	pending, err := s.PendingBytes()
	if err != nil {
		return nil, err
	}
	r.n = min(max(pending, 1), r.max-len(r.buf))
	r.buf = slices.Grow(r.buf, r.n)
	return [][]byte{r.buf[len(r.buf) : len(r.buf)+r.n]}, nil
}

// line takes the first line out of the buffer, without its newline.
func (r *lineReader) line() string {
	i := bytes.IndexByte(r.buf, '\n')
	line := string(r.buf[:i])
	r.buf = r.buf[:copy(r.buf, r.buf[i+1:])]
	return line
}

// serveUpper answers each line with the line in upper case, until the
// client closes the connection.
func serveUpper(ev *tevent.Context, s *tsocket.Stream) {
	r := &lineReader{max: 1024}
	var readLine func()
	readLine = func() {
		subreq := tsocket.ReadvPDUSend(ev, s, r.next)
		subreq.SetCallback(func(subreq *tevent.Req[struct{}]) {
			if err := tsocket.ReadvPDURecv(subreq); err != nil {
				s.Close() // io.EOF: the client is done
				return
			}
			reply := []byte(strings.ToUpper(r.line()) + "\n")
			wreq := tsocket.WritevSend(ev, s, [][]byte{reply})
			wreq.SetCallback(func(wreq *tevent.Req[int]) {
				if _, err := tsocket.WritevRecv(wreq); err != nil {
					s.Close()
					return
				}
				readLine()
			})
		})
	}
	readLine()
}

// A TCP server on loopback port 0 and a client on the same loop. The client
// sends two lines in one write; the server reads them one PDU at a time.
func Example_lineServer() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	addr, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()
	acceptLoop(ev, l, func(s *tsocket.Stream) { serveUpper(ev, s) })

	creq := tsocket.ConnectSend(ev, nil, l.Addr())
	if err := creq.Poll(); err != nil {
		fmt.Println(err)
		return
	}
	c, err := tsocket.ConnectRecv(creq)
	if err != nil {
		fmt.Println(err)
		return
	}

	w := tsocket.WritevSend(ev, c, [][]byte{[]byte("hello\nevent loop\n")})
	r := &lineReader{max: 1024}
	for range 2 {
		rreq := tsocket.ReadvPDUSend(ev, c, r.next)
		if err := rreq.Poll(); err != nil {
			fmt.Println(err)
			return
		}
		if err := tsocket.ReadvPDURecv(rreq); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.line())
	}
	n, err := tsocket.WritevRecv(w)
	fmt.Println("wrote", n, err)

	c.Close()
	l.Close()
	if err := ev.LoopWait(); err != nil { // the server sees EOF and closes
		fmt.Println(err)
	}
	// Output:
	// HELLO
	// EVENT LOOP
	// wrote 17 <nil>
}

const maxFrame = 1 << 20

var errFrameTooBig = errors.New("frame too big")

// frame is one length-prefixed message: a 4-byte big-endian length, then
// that many bytes of body.
type frame struct {
	hdr  [4]byte
	body []byte
	step int
}

// next is the NextVectorFunc: the header, then the body, then done.
func (f *frame) next(*tsocket.Stream) ([][]byte, error) {
	f.step++
	switch f.step {
	case 1:
		return [][]byte{f.hdr[:]}, nil
	case 2:
		n := binary.BigEndian.Uint32(f.hdr[:])
		if n > maxFrame {
			return nil, errFrameTooBig // before allocating anything
		}
		if n == 0 {
			return nil, nil // no body: an all-empty vector would be EINVAL
		}
		f.body = make([]byte, n)
		return [][]byte{f.body}, nil
	}
	return nil, nil
}

// frameVector is body with its header in front, ready for WritevSend: two
// buffers, no copy.
func frameVector(body []byte) [][]byte {
	return [][]byte{binary.BigEndian.AppendUint32(nil, uint32(len(body))), body}
}

// Frames written back to back are read one PDU at a time; an oversized
// length fails the read before any memory is allocated for it.
func Example_lengthPrefixed() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	defer b.Close()

	out := append(frameVector([]byte("first")), frameVector([]byte("second"))...)
	out = append(out, []byte{0xff, 0xff, 0xff, 0xff}) // a lying header
	tsocket.WritevSend(ev, a, out).SetCallback(func(req *tevent.Req[int]) {
		tsocket.WritevRecv(req)
	})
	for range 3 {
		f := &frame{}
		req := tsocket.ReadvPDUSend(ev, b, f.next)
		if err := req.Poll(); err != nil {
			fmt.Println(err)
			return
		}
		if err := tsocket.ReadvPDURecv(req); err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Printf("%q\n", f.body)
	}
	// Output:
	// "first"
	// "second"
	// error: frame too big
}

// A UDP server that answers each datagram to its sender, and a client.
func Example_datagrams() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	local, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	srv, err := tsocket.UDPSocket(ev, local, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	cli, err := tsocket.UDPSocket(ev, local, srv.LocalAddress())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cli.Close()

	rreq := tsocket.RecvFromSend(ev, srv)
	rreq.SetCallback(func(rreq *tevent.Req[tsocket.Datagram]) {
		data, from, err := tsocket.RecvFromRecv(rreq)
		if err != nil {
			fmt.Println(err)
			return
		}
		reply := bytes.ToUpper(data)
		tsocket.SendToSend(ev, srv, reply, from).SetCallback(func(sreq *tevent.Req[int]) {
			tsocket.SendToRecv(sreq)
		})
	})

	tsocket.SendToSend(ev, cli, []byte("ping"), nil).SetCallback(func(sreq *tevent.Req[int]) {
		tsocket.SendToRecv(sreq)
	})
	reply := tsocket.RecvFromSend(ev, cli)
	if err := reply.Poll(); err != nil {
		fmt.Println(err)
		return
	}
	data, _, err := tsocket.RecvFromRecv(reply)
	fmt.Printf("%q %v\n", data, err)
	// Output:
	// "PING" <nil>
}

// One writev may be in flight on a stream. While a large write waits for
// the peer to read, a second plain write fails with ErrBusy.
func Example_writevBusy() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	defer b.Close()

	big := bytes.Repeat([]byte("x"), 4<<20) // more than the socket buffer holds
	first := tsocket.WritevSend(ev, a, [][]byte{big})
	second := tsocket.WritevSend(ev, a, [][]byte{[]byte("hello")})
	if err := second.Poll(); err != nil {
		fmt.Println(err)
		return
	}
	_, err = tsocket.WritevRecv(second)
	fmt.Println("first in progress:", first.IsInProgress())
	fmt.Println("second:", errors.Is(err, tsocket.ErrBusy))
	first.Abandon() // part of big may be on the wire: the stream is unusable now
	// Output:
	// first in progress: true
	// second: true
}

// queueWrites writes each message to s through q, whole and in order.
func queueWrites(ev *tevent.Context, s *tsocket.Stream, q *tqueue.Queue, msgs [][]byte) {
	for _, msg := range msgs {
		wreq := tsocket.WritevQueueSend(ev, s, q, [][]byte{msg})
		wreq.SetCallback(func(wreq *tevent.Req[int]) {
			if _, err := tsocket.WritevQueueRecv(wreq); err != nil {
				s.Close()
			}
		})
	}
}

// Queued writes wait their turn: the large one goes out first, whole, and
// the small ones after it.
func Example_writevQueue() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	defer b.Close()

	big := bytes.Repeat([]byte("x"), 4<<20)
	msgs := [][]byte{big, []byte("hello"), []byte("world")}
	queueWrites(ev, a, tqueue.New(ev, "out"), msgs)

	got := make([]byte, len(big)+10)
	rreq := tsocket.ReadvSend(ev, b, [][]byte{got})
	if err := rreq.Poll(); err != nil {
		fmt.Println(err)
		return
	}
	n, err := tsocket.ReadvRecv(rreq)
	fmt.Println("read", n, err)
	fmt.Println("in order:", bytes.Equal(got, slices.Concat(msgs...)))
	if err := ev.LoopWait(); err != nil { // the last write's callback
		fmt.Println(err)
	}
	// Output:
	// read 4194314 <nil>
	// in order: true
}
