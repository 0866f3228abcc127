package docs_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// The limits of a client's outbox: stop reading a client whose replies
// pile up past outSoft, disconnect one that would make the server hold
// more than outHard.
const (
	outSoft = 1 << 20  // 1 MiB
	outHard = 32 << 20 // 32 MiB
)

// outboxConn is a client of a line server that answers each line with
// the line in capitals, through an outbox.
type outboxConn struct {
	ev   *tevent.Context
	s    *tsocket.Stream
	out  *tsocket.Writer
	buf  []byte
	have int // bytes of buf holding an unfinished line
}

func serveOutbox(ev *tevent.Context, s *tsocket.Stream) {
	out := tsocket.NewWriter(ev, s, tsocket.WriterLimits{Soft: outSoft, Hard: outHard})
	c := &outboxConn{ev: ev, s: s, out: out, buf: make([]byte, 4096)}
	c.read()
}

// read reads what has arrived and queues a reply to each whole line.
func (c *outboxConn) read() {
	req := tsocket.ReadSomeSend(c.ev, c.s, c.buf[c.have:])
	req.SetCallback(func(req *tevent.Req[int]) {
		n, err := tsocket.ReadSomeRecv(req)
		if err != nil { // io.EOF: the client has sent its last line
			tsocket.WriterCloseSend(c.ev, c.out) // its replies still go out
			return
		}
		c.have += n
		for {
			i := bytes.IndexByte(c.buf[:c.have], '\n')
			if i < 0 {
				break
			}
			// A new slice: the Writer keeps it until it is written,
			// and the next read overwrites c.buf.
			if err := c.out.Write(bytes.ToUpper(c.buf[:i+1])); err != nil {
				c.s.Close() // ErrWriterFull: too far behind; or the write failed
				return
			}
			c.have = copy(c.buf, c.buf[i+1:c.have])
		}
		if c.have == len(c.buf) {
			c.s.Close() // a line longer than buf: refuse it
			return
		}
		c.readOn()
	})
}

// readOn reads again at once while the client keeps up; past the soft
// limit, only once it has taken half of what is queued.
func (c *outboxConn) readOn() {
	if !c.out.OverSoft() {
		c.read()
		return
	}
	drain := tsocket.WriterDrainSend(c.ev, c.out, outSoft/2)
	drain.SetEndTime(c.ev.Now().Add(time.Minute))
	drain.SetCallback(func(drain *tevent.Req[struct{}]) {
		if err := tsocket.WriterDrainRecv(drain); err != nil {
			c.s.Close() // the write failed, or a minute behind
			return
		}
		c.read()
	})
}

// A client sends 10000 lines, shuts down its side, and still reads every
// reply: the server reads EOF with replies queued and WriterCloseSend
// delivers them before it closes.
func Example_outbox() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	client, server, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	serveOutbox(ev, server)

	var lines []byte
	for i := range 10000 {
		lines = fmt.Appendf(lines, "hello %d\n", i)
	}
	wreq := tsocket.WritevSend(ev, client, [][]byte{lines})
	wreq.Poll()
	if _, err := tsocket.WritevRecv(wreq); err != nil {
		fmt.Println(err)
		return
	}
	if err := unix.Shutdown(client.Fd(), unix.SHUT_WR); err != nil { // net.TCPConn.CloseWrite
		fmt.Println(err)
		return
	}

	var replies []byte
	buf := make([]byte, 64<<10)
	for {
		rreq := tsocket.ReadSomeSend(ev, client, buf)
		rreq.Poll()
		n, err := tsocket.ReadSomeRecv(rreq)
		if err != nil {
			fmt.Println("then", err)
			break
		}
		replies = append(replies, buf[:n]...)
	}
	fmt.Println(bytes.Count(replies, []byte("\n")), "replies, the same lines:", bytes.Equal(replies, bytes.ToUpper(lines)))
	// Output:
	// then EOF
	// 10000 replies, the same lines: true
}
