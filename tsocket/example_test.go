package tsocket_test

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// message is one length-prefixed PDU: a 4-byte big-endian length, then the
// body. next is its NextVectorFunc.
type message struct {
	hdr  [4]byte
	body []byte
	step int
}

func (m *message) next(*tsocket.Stream) ([][]byte, error) {
	m.step++
	switch m.step {
	case 1:
		return [][]byte{m.hdr[:]}, nil
	case 2:
		n := binary.BigEndian.Uint32(m.hdr[:])
		if n == 0 {
			return nil, nil // no body: an all-empty vector would be EINVAL
		}
		m.body = make([]byte, n)
		return [][]byte{m.body}, nil
	}
	return nil, nil // the PDU is complete
}

func frame(body []byte) [][]byte {
	return [][]byte{binary.BigEndian.AppendUint32(nil, uint32(len(body))), body}
}

// A TCP echo server on loopback port 0 that reads length-prefixed messages
// with ReadvPDU, and a client that sends three and reads the echoes.
func Example_echo() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	addr, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	// The server: read a message, write it back, repeat until EOF.
	var serve func(s *tsocket.Stream)
	serve = func(s *tsocket.Stream) {
		m := &message{}
		tsocket.ReadvPDUSend(ev, s, m.next).SetCallback(func(req *tevent.Req[struct{}]) {
			if err := tsocket.ReadvPDURecv(req); err != nil { // io.EOF: the client is done
				s.Close()
				return
			}
			tsocket.WritevSend(ev, s, frame(m.body)).SetCallback(func(req *tevent.Req[int]) {
				if _, err := tsocket.WritevRecv(req); err != nil {
					s.Close()
					return
				}
				serve(s)
			})
		})
	}
	tsocket.AcceptSend(ev, l).SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
		if s, err := tsocket.AcceptRecv(req); err == nil {
			serve(s)
		}
	})

	// The client, written synchronously with Poll.
	creq := tsocket.ConnectSend(ev, nil, l.Addr())
	creq.Poll()
	c, err := tsocket.ConnectRecv(creq)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, msg := range []string{"hello", "length-prefixed", "world"} {
		w := tsocket.WritevSend(ev, c, frame([]byte(msg)))
		m := &message{}
		r := tsocket.ReadvPDUSend(ev, c, m.next)
		r.Poll()
		err := tsocket.ReadvPDURecv(r)
		w.Poll()
		if _, werr := tsocket.WritevRecv(w); werr != nil {
			err = werr
		}
		fmt.Printf("echo: %q %v\n", m.body, err)
	}
	c.Close()
	ev.LoopWait() // the server sees EOF and closes its side
	// Output:
	// echo: "hello" <nil>
	// echo: "length-prefixed" <nil>
	// echo: "world" <nil>
}

// A UDP round trip on loopback: the server learns the client's address
// from the datagram and replies to it.
func Example_udp() {
	ev, _ := tevent.NewContext()
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

	tsocket.RecvFromSend(ev, srv).SetCallback(func(req *tevent.Req[tsocket.Datagram]) {
		data, from, err := tsocket.RecvFromRecv(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("server got %q from the client: %v\n", data, from.String() == cli.LocalAddress().String())
		tsocket.SendToSend(ev, srv, []byte("pong"), from)
	})
	tsocket.SendToSend(ev, cli, []byte("ping"), nil)
	r := tsocket.RecvFromSend(ev, cli)
	r.Poll()
	data, _, err := tsocket.RecvFromRecv(r)
	fmt.Printf("client got %q %v\n", data, err)
	// Output:
	// server got "ping" from the client: true
	// client got "pong" <nil>
}

// A wait event as an idle timeout: the connection is closed when no data
// has arrived for 30 seconds. Every read pushes the deadline on; the fake
// clock makes the minutes pass at once.
func Example_idleTimeout() {
	clock := tevent.NewFakeClock(time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC))
	ev, _ := tevent.NewContext(tevent.WithClock(clock))
	defer ev.Close()
	client, server, _ := tsocket.Socketpair(ev)
	defer client.Close()

	const idle = 30 * time.Second
	start := ev.Now()
	lastRead := ev.Now()
	server.AddWaitEvent(lastRead.Add(idle), func(s *tsocket.Stream, we *tsocket.WaitEvent, _ any) *tsocket.WaitEvent {
		if deadline := lastRead.Add(idle); ev.Now().Before(deadline) {
			we.Mark = deadline // data arrived since: wait again
			return we
		}
		fmt.Printf("idle for %v, closing after %v\n", idle, ev.Now().Sub(start))
		s.Close()
		return nil
	}, nil)

	var read func()
	read = func() {
		buf := make([]byte, 1)
		tsocket.ReadvSend(ev, server, [][]byte{buf}).SetCallback(func(req *tevent.Req[int]) {
			if _, err := tsocket.ReadvRecv(req); err != nil {
				return // closed by the timeout
			}
			lastRead = ev.Now()
			fmt.Printf("read %q at +%v\n", buf, lastRead.Sub(start))
			read()
		})
	}
	read()
	// The client sends a byte 20 seconds in, then goes quiet.
	ev.AddTimer(start.Add(20*time.Second), func(*tevent.Timer, time.Time) {
		tsocket.WritevSend(ev, client, [][]byte{[]byte("x")})
	})
	ev.LoopWait()
	// Output:
	// read "x" at +20s
	// idle for 30s, closing after 50s
}
