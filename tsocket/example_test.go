package tsocket_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
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

// A server that answers each request with a 16 KiB reply through a Writer
// and stops reading a client that falls behind: over the soft limit it
// waits for a drain to half of it, then reads again. The hard limit is
// the client's last chance; a Write past it means disconnecting. The
// client sends 100 requests and "q" at once, then reads every reply.
func ExampleWriter() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	client, server, _ := tsocket.Socketpair(ev)
	defer client.Close()

	const replySize = 16 << 10
	lim := tsocket.WriterLimits{Soft: 64 << 10, Hard: 1 << 20}
	w := tsocket.NewWriter(ev, server, lim)
	paused, most := false, 0
	req := make([]byte, 1)
	var read func()
	read = func() {
		tsocket.ReadvSend(ev, server, [][]byte{req}).SetCallback(func(r *tevent.Req[int]) {
			if _, err := tsocket.ReadvRecv(r); err != nil || req[0] == 'q' {
				tsocket.WriterCloseSend(ev, w) // deliver what is queued, then close
				return
			}
			if err := w.Write(bytes.Repeat(req, replySize)); err != nil {
				server.Close() // ErrWriterFull: too far behind, or the write failed
				return
			}
			most = max(most, w.Buffered())
			if !w.OverSoft() {
				read()
				return
			}
			paused = true // read again once the client has caught up
			tsocket.WriterDrainSend(ev, w, lim.Soft/2).SetCallback(func(d *tevent.Req[struct{}]) {
				if tsocket.WriterDrainRecv(d) == nil {
					read()
				}
			})
		})
	}
	read()

	tsocket.WritevSend(ev, client, [][]byte{append(bytes.Repeat([]byte("r"), 100), 'q')})
	got, buf := 0, make([]byte, 64<<10)
	for {
		r := tsocket.ReadSomeSend(ev, client, buf)
		r.Poll()
		n, err := tsocket.ReadSomeRecv(r)
		if err != nil {
			fmt.Printf("client got %d replies, then %v\n", got/replySize, err)
			break
		}
		got += n
	}
	fmt.Println("server paused reading:", paused)
	fmt.Println("server held at most the soft limit and one reply:", most <= lim.Soft+replySize)
	// Output:
	// client got 100 replies, then EOF
	// server paused reading: true
	// server held at most the soft limit and one reply: true
}

// An SMTP-style server reading commands with a Reader: lines of up to 64
// bytes, and after BDAT (RFC 3030's counted alternative to DATA) a payload
// of the announced size, read with ReadFullSend. A line too long is
// answered and skipped; the session goes on.
func ExampleReader() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	client, server, _ := tsocket.Socketpair(ev)
	defer client.Close()
	defer server.Close()

	r := tsocket.NewReader(ev, server, 64)
	var command func()
	command = func() {
		tsocket.ReadUntilSend(ev, r, []byte("\r\n")).SetCallback(func(req *tevent.Req[[]byte]) {
			line, err := tsocket.ReadUntilRecv(req)
			switch {
			case errors.Is(err, tsocket.ErrRecordTooLong):
				fmt.Println("500 line too long")
				command()
				return
			case err != nil:
				fmt.Println("end:", err)
				return
			}
			// line is valid until the next read on r: take what is needed now.
			verb, arg, _ := strings.Cut(strings.TrimSuffix(string(line), "\r\n"), " ")
			switch verb {
			case "BDAT":
				n, _ := strconv.Atoi(arg)
				body := make([]byte, n)
				tsocket.ReadFullSend(ev, r, body).SetCallback(func(req *tevent.Req[int]) {
					if _, err := tsocket.ReadFullRecv(req); err != nil {
						fmt.Println("end:", err)
						return
					}
					fmt.Printf("250 %d octets: %q\n", n, body)
					command()
				})
			case "QUIT":
				fmt.Println("221 bye")
			default:
				fmt.Println("250", verb, "ok")
				command()
			}
		})
	}
	command()

	tsocket.WritevSend(ev, client, [][]byte{[]byte("HELO client.example\r\n" +
		"MAIL FROM:<" + strings.Repeat("x", 80) + "@example.org>\r\n" +
		"BDAT 14\r\nhello\r\nworld\r\n" +
		"QUIT\r\n")})
	ev.LoopWait()
	// Output:
	// 250 HELO ok
	// 500 line too long
	// 250 14 octets: "hello\r\nworld\r\n"
	// 221 bye
}

// A message whose shape is known: a 4-byte header and a 12-byte body.
// One readv brings the header into its array, the body into a buffer of
// its own and what follows into a spare buffer; the buffers are taken
// only once the socket is readable, so a read that waits holds none.
func ExampleReadvSomeFuncSend() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	client, server, _ := tsocket.Socketpair(ev)
	defer client.Close()
	defer server.Close()

	var hdr [4]byte
	var body []byte
	spare := make([]byte, 64) // the loop's, for whatever follows
	get := func() [][]byte {
		body = make([]byte, 12)
		return [][]byte{hdr[:], body, spare}
	}
	tsocket.ReadvSomeFuncSend(ev, server, get).SetCallback(func(req *tevent.Req[int]) {
		n, err := tsocket.ReadvSomeFuncRecv(req)
		if err != nil || n < len(hdr)+len(body) {
			fmt.Println("short:", n, err) // the caller parses what came, as it came
			return
		}
		fmt.Printf("%d bytes: header %q, body %q, then %q\n", n, hdr[:], body, spare[:n-len(hdr)-len(body)])
	})
	tsocket.WritevSend(ev, client, [][]byte{[]byte("BODYhello, world!NEXT")})
	ev.LoopWait()
	// Output:
	// 21 bytes: header "BODY", body "hello, world", then "!NEXT"
}

// A server that greets each client and closes a connection once its client
// leaves, shut down gracefully: the OnShutdown hook says BYE to every open
// connection, the clients leave, and ShutdownRecv reports that they all
// closed within the grace period.
func ExampleServe() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	addr, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := tsocket.Serve(ev, l, func(s *tsocket.Stream) {
		tsocket.WritevSend(ev, s, [][]byte{[]byte("* OK hello\r\n")}).SetCallback(func(req *tevent.Req[int]) {
			tsocket.WritevRecv(req)
		})
		tsocket.ReadSomeSend(ev, s, make([]byte, 64)).SetCallback(func(req *tevent.Req[int]) {
			tsocket.ReadSomeRecv(req)
			s.Close() // EOF or a line: either way this client is done
		})
	})
	srv.OnShutdown(func(s *tsocket.Stream) {
		tsocket.WritevSend(ev, s, [][]byte{[]byte("* BYE shutting down\r\n")}).SetCallback(func(req *tevent.Req[int]) {
			tsocket.WritevRecv(req)
		})
	})

	// Three clients, written synchronously with Poll.
	read := func(c *tsocket.Stream) string {
		buf := make([]byte, 64)
		req := tsocket.ReadSomeSend(ev, c, buf)
		req.Poll()
		n, _ := tsocket.ReadSomeRecv(req)
		return string(buf[:n])
	}
	var clients []*tsocket.Stream
	for range 3 {
		req := tsocket.ConnectSend(ev, nil, srv.Addr())
		req.Poll()
		c, err := tsocket.ConnectRecv(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%q\n", read(c))
		clients = append(clients, c)
	}
	fmt.Println("open:", srv.Conns())

	shut := tsocket.ShutdownSend(ev, srv, 5*time.Second)
	for _, c := range clients {
		fmt.Printf("%q\n", read(c))
		c.Close()
	}
	shut.Poll()
	fmt.Println("shutdown:", tsocket.ShutdownRecv(shut), "open:", srv.Conns())
	// Output:
	// "* OK hello\r\n"
	// "* OK hello\r\n"
	// "* OK hello\r\n"
	// open: 3
	// "* BYE shutting down\r\n"
	// "* BYE shutting down\r\n"
	// "* BYE shutting down\r\n"
	// shutdown: <nil> open: 0
}

// upper writes back in upper case whatever s reads, on the loop, until
// the peer closes.
func upper(ev *tevent.Context, s *tsocket.Stream) {
	buf := make([]byte, 512)
	tsocket.ReadSomeSend(ev, s, buf).SetCallback(func(req *tevent.Req[int]) {
		n, err := tsocket.ReadSomeRecv(req)
		if err != nil {
			s.Close()
			return
		}
		tsocket.WritevSend(ev, s, [][]byte{bytes.ToUpper(buf[:n])}).SetCallback(func(req *tevent.Req[int]) {
			if _, err := tsocket.WritevRecv(req); err != nil {
				s.Close()
				return
			}
			upper(ev, s)
		})
	})
}

// bufio on a NetConn, from a goroutine of its own, while the loop runs on
// this one and serves the other end of the socketpair with requests.
func ExampleNetConn() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	upper(ev, b)
	conn := tsocket.NetConn(a) // on the loop's goroutine, before handing it over

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close()
		r := bufio.NewReader(conn)
		for _, msg := range []string{"hello", "net.Conn code", "on a stream"} {
			fmt.Fprintf(conn, "%s\n", msg)
			line, err := r.ReadString('\n')
			fmt.Printf("%q %v\n", line, err)
		}
	}()
	// The end the loop serves keeps a request in flight until the
	// goroutine's Close reaches it and it reads EOF, so LoopWait goes on
	// serving the goroutine's posts until then.
	ev.LoopWait()
	<-done
	// Output:
	// "HELLO\n" <nil>
	// "NET.CONN CODE\n" <nil>
	// "ON A STREAM\n" <nil>
}
