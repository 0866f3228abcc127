package docs_test

import (
	"bufio"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Two loops, each with its own listener on the same port (SO_REUSEPORT);
// the kernel spreads the connections over them. The clients are ordinary
// net.Conn code on this goroutine.
func Example_group() {
	g, err := tevent.NewGroup(2)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer g.Stop()

	// Before Start, the contexts may be used from here.
	addr, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	var listeners []*tsocket.Listener
	for _, ev := range g.Contexts() {
		l, err := tsocket.Listen(ev, addr, tsocket.ReusePort())
		if err != nil {
			fmt.Println(err)
			return
		}
		addr = l.Addr() // the next loop binds the port the kernel chose
		listeners = append(listeners, l)
	}

	var served atomic.Int32
	err = g.Start(func(i int, ev *tevent.Context) error {
		acceptLoop(ev, listeners[i], func(s *tsocket.Stream) {
			served.Add(1)
			serveUpper(ev, s)
		})
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	for range 8 {
		conn, err := net.Dial("tcp", addr.(*tsocket.InetAddr).AddrPort().String())
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Fprintf(conn, "ping\n")
		reply, err := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if err != nil || reply != "PING\n" {
			fmt.Printf("reply %q, error %v\n", reply, err)
		}
	}

	// Shut down gracefully: each loop closes its own listener, finishes its
	// connections and, with no events left, returns.
	for i, ev := range g.Contexts() {
		ev.Post(func() { listeners[i].Close() })
	}
	if err := g.Wait(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("served", served.Load(), "connections on", len(g.Contexts()), "loops")
	// Output:
	// served 8 connections on 2 loops
}
