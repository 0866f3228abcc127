package docs_test

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// handOver gives conn to the process at the other end of ctl, a unix
// stream made for this one hand-over: the descriptor goes with a message
// of two lengths, the connection's state, and the bytes r has read from
// conn but not returned, which the socket no longer holds.
func handOver(ev *tevent.Context, ctl, conn *tsocket.Stream, r *tsocket.Reader, state []byte, done func(error)) {
	rest := make([]byte, r.Buffered())
	subreq := tsocket.ReadFullSend(ev, r, rest) // from r's buffer: the socket is not read
	subreq.SetCallback(func(subreq *tevent.Req[int]) {
		if _, err := tsocket.ReadFullRecv(subreq); err != nil {
			done(err)
			return
		}
		fd, err := conn.Detach() // ErrBusy while anything is in flight on conn
		if err != nil {
			done(err)
			return
		}
		hdr := binary.BigEndian.AppendUint32(nil, uint32(len(state)))
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(len(rest)))
		send := tsocket.SendFDsSend(ev, ctl, [][]byte{hdr, state, rest}, []int{fd})
		send.SetCallback(func(send *tevent.Req[int]) {
			_, err := tsocket.SendFDsRecv(send)
			unix.Close(fd) // handed over, or lost: this process is done with it
			done(err)
		})
	})
}

// takeOver receives a connection handed over on ctl and rebuilds its
// stream. It returns the state, and the bytes the client sent that the
// first process had read already: they come before anything read from s.
func takeOver(ev *tevent.Context, ctl *tsocket.Stream, done func(s *tsocket.Stream, state, rest []byte, err error)) {
	buf := make([]byte, 4096)
	subreq := tsocket.RecvFDsSend(ev, ctl, buf, 1) // the descriptor comes with the first byte
	subreq.SetCallback(func(subreq *tevent.Req[tsocket.FDMessage]) {
		n, fds, err := tsocket.RecvFDsRecv(subreq)
		if err == nil && (len(fds) != 1 || n < 8) {
			err = errors.New("takeOver: not a hand-over")
		}
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			done(nil, nil, nil, err)
			return
		}
		s, err := tsocket.ExistingSocket(ev, fds[0]) // s owns the descriptor now
		if err != nil {
			unix.Close(fds[0])
			done(nil, nil, nil, err)
			return
		}
		stateLen := int(binary.BigEndian.Uint32(buf[0:]))
		size := 8 + stateLen + int(binary.BigEndian.Uint32(buf[4:]))
		if size > len(buf) || n > size {
			s.Close()
			done(nil, nil, nil, errors.New("takeOver: not a hand-over"))
			return
		}
		msg := buf[:size]
		finish := func() { done(s, msg[8:8+stateLen], msg[8+stateLen:], nil) }
		if n == len(msg) {
			finish()
			return
		}
		// A stream may deliver the message in parts: read the rest.
		more := tsocket.ReadvSend(ev, ctl, [][]byte{msg[n:]})
		more.SetCallback(func(more *tevent.Req[int]) {
			if _, err := tsocket.ReadvRecv(more); err != nil {
				s.Close()
				done(nil, nil, nil, err)
				return
			}
			finish()
		})
	})
}

// An IMAP server hands a client in IDLE over to a hibernation process,
// which answers the DONE the client had already sent: the first process
// read it with the command, so it travels with the descriptor. Both
// processes are one loop here; ctl stands for the unix socket between
// them.
func Example_handOver() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	addr, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	l, _ := tsocket.Listen(ev, addr)
	defer l.Close()
	imapCtl, hibernateCtl, _ := tsocket.Socketpair(ev)
	defer imapCtl.Close()
	defer hibernateCtl.Close()

	// The imap process: read a command, and hand the connection over.
	tsocket.AcceptSend(ev, l).SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
		conn, err := tsocket.AcceptRecv(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		r := tsocket.NewReader(ev, conn, 1024)
		tsocket.ReadUntilSend(ev, r, []byte("\r\n")).SetCallback(func(req *tevent.Req[[]byte]) {
			line, err := tsocket.ReadUntilRecv(req)
			if err != nil {
				fmt.Println(err)
				conn.Close()
				return
			}
			fmt.Printf("imap: %q; %d bytes buffered; handing over\n", line, r.Buffered())
			handOver(ev, imapCtl, conn, r, []byte("a1 IDLE"), func(err error) {
				if err != nil {
					fmt.Println("imap: hand-over:", err) // the connection is lost
				}
			})
		})
	})

	// The hibernation process: take the connection, finish the IDLE.
	takeOver(ev, hibernateCtl, func(s *tsocket.Stream, state, rest []byte, err error) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("hibernate: took over %q with %q already read\n", state, rest)
		tsocket.WritevSend(ev, s, [][]byte{[]byte("a1 OK Idle completed\r\n")}).SetCallback(func(*tevent.Req[int]) {
			s.Close()
		})
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
	tsocket.WritevSend(ev, c, [][]byte{[]byte("a1 IDLE\r\nDONE\r\n")})
	r := tsocket.NewReader(ev, c, 1024)
	lr := tsocket.ReadUntilSend(ev, r, []byte("\r\n"))
	lr.Poll()
	line, err := tsocket.ReadUntilRecv(lr)
	fmt.Printf("client: %q %v\n", line, err)
	ev.LoopWait() // until the hibernation side has closed
	// Output:
	// imap: "a1 IDLE\r\n"; 6 bytes buffered; handing over
	// hibernate: took over "a1 IDLE" with "DONE\r\n" already read
	// client: "a1 OK Idle completed\r\n" <nil>
}
