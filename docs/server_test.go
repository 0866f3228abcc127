package docs_test

import (
	"bufio"
	"fmt"
	"log"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
	"github.com/gotevent/gotevent/tsocket"
)

// upperServer is the upper-case line server of section 5 behind a
// Server. Each client's replies and its BYE go through a queue of its
// own, so that the shutdown hook may write while a reply is being
// written.
type upperServer struct {
	ev     *tevent.Context
	srv    *tsocket.Server
	queues map[*tsocket.Stream]*tqueue.Queue
}

func newUpperServer(ev *tevent.Context, l *tsocket.Listener) *upperServer {
	u := &upperServer{ev: ev, queues: map[*tsocket.Stream]*tqueue.Queue{}}
	u.srv = tsocket.Serve(ev, l, u.serve)
	u.srv.SetMaxConns(10000) // past that, new clients wait in the backlog
	u.srv.OnAcceptError(func(err error) { log.Printf("accept: %v", err) })
	u.srv.OnShutdown(func(s *tsocket.Stream) {
		u.write(s, "BYE server shutting down\n")
	})
	return u
}

// serve is the handler: it answers each line in upper case until the
// client leaves or the Server closes the stream.
func (u *upperServer) serve(s *tsocket.Stream) {
	u.queues[s] = tqueue.New(u.ev, "replies")
	r := &lineReader{max: 1024}
	var readLine func()
	readLine = func() {
		subreq := tsocket.ReadvPDUSend(u.ev, s, r.next)
		subreq.SetCallback(func(subreq *tevent.Req[struct{}]) {
			if err := tsocket.ReadvPDURecv(subreq); err != nil {
				delete(u.queues, s) // io.EOF, or net.ErrClosed from the Server
				s.Close()
				return
			}
			u.write(s, strings.ToUpper(r.line())+"\n")
			readLine()
		})
	}
	readLine()
}

// write queues text to s behind the replies already queued.
func (u *upperServer) write(s *tsocket.Stream, text string) {
	wreq := tsocket.WritevQueueSend(u.ev, s, u.queues[s], [][]byte{[]byte(text)})
	wreq.SetCallback(func(wreq *tevent.Req[int]) {
		tsocket.WritevQueueRecv(wreq) // a broken stream shows in the next read
	})
}

// runUpperServer serves l until SIGTERM, then shuts down gracefully: the
// clients are told BYE and have grace to leave before they are cut off.
func runUpperServer(ev *tevent.Context, l *tsocket.Listener, grace time.Duration) error {
	u := newUpperServer(ev, l)
	var shutErr error
	var sig *tevent.Signal
	sig, err := ev.AddSignal(syscall.SIGTERM, func(os.Signal, int) {
		sig.Remove()
		shut := tsocket.ShutdownSend(ev, u.srv, grace)
		shut.SetCallback(func(shut *tevent.Req[struct{}]) {
			shutErr = tsocket.ShutdownRecv(shut)
		})
	})
	if err != nil {
		u.srv.Close()
		return err
	}
	if err := ev.LoopWait(); err != nil { // until the last stream is closed
		return err
	}
	return shutErr
}

// The server of the guide's "Writing a server", with two clients on
// goroutines of their own using net: each is answered, then the process
// gets SIGTERM, each client reads the BYE and leaves, and the server
// stops with every connection closed in time.
func Example_server() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	addr, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	hostport := l.Addr().(*tsocket.InetAddr).AddrPort().String()
	clients := make(chan struct{})
	go func() {
		defer close(clients)
		var conns []net.Conn
		var readers []*bufio.Reader
		for i := range 2 {
			c, err := net.Dial("tcp", hostport)
			if err != nil {
				fmt.Println(err)
				return
			}
			defer c.Close()
			conns, readers = append(conns, c), append(readers, bufio.NewReader(c))
			fmt.Fprintf(c, "hello from client %d\n", i)
			reply, err := readers[i].ReadString('\n')
			fmt.Printf("%q %v\n", reply, err)
		}
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		for i, c := range conns {
			bye, err := readers[i].ReadString('\n')
			fmt.Printf("%q %v\n", bye, err)
			c.Close()
		}
	}()
	err = runUpperServer(ev, l, 10*time.Second)
	<-clients
	fmt.Println("server stopped:", err)
	// Output:
	// "HELLO FROM CLIENT 0\n" <nil>
	// "HELLO FROM CLIENT 1\n" <nil>
	// "BYE server shutting down\n" <nil>
	// "BYE server shutting down\n" <nil>
	// server stopped: <nil>
}

// upperClient is net.Conn code, unchanged: it sends each line and reads
// the answer with bufio, with a deadline on every exchange.
func upperClient(conn net.Conn, lines []string) ([]string, error) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	var got []string
	for _, line := range lines {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprintf(conn, "%s\n", line); err != nil {
			return got, err
		}
		reply, err := r.ReadString('\n')
		if err != nil {
			return got, err
		}
		got = append(got, strings.TrimSuffix(reply, "\n"))
	}
	return got, nil
}

// NetConn runs upperClient on a goroutine against serveUpper on the loop.
func Example_netConn() {
	ev, _ := tevent.NewContext()
	defer ev.Close()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	serveUpper(ev, b)
	conn := tsocket.NetConn(a) // on the loop's goroutine: a is the conn's now
	var got []string
	var cerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		got, cerr = upperClient(conn, []string{"hello", "from a goroutine"})
	}()
	ev.LoopWait() // serves b, and conn's posts, until b reads EOF
	<-done
	fmt.Println(got, cerr)
	// Output:
	// [HELLO FROM A GOROUTINE] <nil>
}
