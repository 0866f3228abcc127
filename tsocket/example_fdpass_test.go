package tsocket_test

import (
	"fmt"
	"io"
	"os"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// A descriptor passed over a unix stream: one end sends the write end of
// a pipe with a message, the other receives it and writes through it, and
// the bytes come out of the pipe's read end, which the sender kept.
func ExampleSendFDsSend() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()
	defer b.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pr.Close()

	send := tsocket.SendFDsSend(ev, a, [][]byte{[]byte("here is a pipe")}, []int{int(pw.Fd())})
	send.Poll()
	n, err := tsocket.SendFDsRecv(send)
	fmt.Println("sent", n, "bytes and a descriptor:", err)
	pw.Close() // handed over: the kernel holds the pipe for the receiver

	buf := make([]byte, 64)
	recv := tsocket.RecvFDsSend(ev, b, buf, 1)
	recv.Poll()
	n, fds, err := tsocket.RecvFDsRecv(recv)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("received %q with %d descriptor\n", buf[:n], len(fds))
	w := os.NewFile(uintptr(fds[0]), "pipe") // owns the received descriptor
	fmt.Fprint(w, "written through the passed descriptor")
	w.Close()
	got, _ := io.ReadAll(pr) // to EOF: the last write end is closed
	fmt.Printf("the pipe says %q\n", got)
	// Output:
	// sent 14 bytes and a descriptor: <nil>
	// received "here is a pipe" with 1 descriptor
	// the pipe says "written through the passed descriptor"
}

// A client that sends its request, then half-closes (CloseWriteSend), and
// a server that reads to the end of the stream before it answers: the
// half-close is how the client says it has sent everything, and it still
// reads the reply.
func ExampleCloseWriteSend() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	addr, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	// The server: read until EOF, then answer with what it read.
	tsocket.AcceptSend(ev, l).SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
		s, err := tsocket.AcceptRecv(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		var got []byte
		buf := make([]byte, 16)
		var read func()
		read = func() {
			tsocket.ReadSomeSend(ev, s, buf).SetCallback(func(req *tevent.Req[int]) {
				n, err := tsocket.ReadSomeRecv(req)
				if err == nil {
					got = append(got, buf[:n]...)
					read()
					return
				}
				fmt.Printf("server read %q, then %v\n", got, err)
				reply := fmt.Sprintf("%d bytes", len(got))
				tsocket.WritevSend(ev, s, [][]byte{[]byte(reply)}).SetCallback(func(*tevent.Req[int]) { s.Close() })
			})
		}
		read()
	})

	// The client.
	creq := tsocket.ConnectSend(ev, nil, l.Addr())
	creq.Poll()
	c, err := tsocket.ConnectRecv(creq)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	tsocket.WritevSend(ev, c, [][]byte{[]byte("the whole request")})
	cw := tsocket.CloseWriteSend(ev, c) // after the writev, if it is still in flight
	cw.Poll()
	fmt.Println("client closed its writing side:", tsocket.CloseWriteRecv(cw))
	var reply []byte
	buf := make([]byte, 16)
	for {
		r := tsocket.ReadSomeSend(ev, c, buf)
		r.Poll()
		n, err := tsocket.ReadSomeRecv(r)
		if err != nil {
			fmt.Printf("client read %q, then %v\n", reply, err)
			break
		}
		reply = append(reply, buf[:n]...)
	}
	// Output:
	// client closed its writing side: <nil>
	// server read "the whole request", then EOF
	// client read "17 bytes", then EOF
}
