// Package tsocket is Samba's tsocket on the [tevent] loop: socket addresses,
// datagram sockets ([Dgram]), stream sockets ([Stream]) and listeners, with
// every operation an asynchronous request made of a FooSend function that
// returns a *tevent.Req and a FooRecv function that collects the result.
//
// # Addresses
//
// [InetAddress], [InetAddressFrom] (a netip.AddrPort), [UnixAddress] and
// [ParseAddress] build an [Address]; its String form ("ipv4:127.0.0.1:80",
// "ipv6:[::1]:80", "unix:/path") parses back, and so do "127.0.0.1:80" and
// "[::1]:80". Addresses are numeric: host names are rejected, never
// resolved.
//
// # Streams
//
// [ConnectSend] and [AcceptSend] (on a [Listen]er), [Socketpair] and
// [ExistingSocket] give a [Stream]. [ReadvSend] fills a vector of buffers
// completely, [WritevSend] writes one completely, and [ReadvPDUSend] reads
// a protocol data unit whose size a [NextVectorFunc] works out as it goes:
//
//	step := 0
//	req := tsocket.ReadvPDUSend(ev, s, func(s *tsocket.Stream) ([][]byte, error) {
//		step++
//		switch n := binary.BigEndian.Uint32(hdr[:]); {
//		case step == 1:
//			return [][]byte{hdr[:]}, nil // the header first
//		case step == 2 && n > 0:
//			body = make([]byte, n)
//			return [][]byte{body}, nil // then the body it announces
//		}
//		return nil, nil // done (buffers that are all empty would be EINVAL)
//	})
//	req.SetCallback(func(req *tevent.Req[struct{}]) {
//		if err := tsocket.ReadvPDURecv(req); err != nil { ... }
//	})
//
// Where a protocol's boundaries are found by parsing, [ReadSomeSend] reads
// what has arrived, as net.Conn.Read does, and [ReadSomeFuncSend] does the
// same with a buffer asked for only once the socket is readable, so an
// idle connection holds none.
//
// One read and one write may be in flight on a stream; a second fails with
// [ErrBusy]. [WritevQueueSend] and [ReadvPDUQueueSend] go through a
// [tqueue.Queue] instead, so that any number of writers take turns.
// Streams also carry Cyrus-style wait events ([Stream.AddWaitEvent]): timed
// callbacks that reschedule themselves, for idle timeouts and keep-alives.
//
// # Datagrams
//
// [UDPSocket] and [UnixDgramSocket] give a [Dgram]; [RecvFromSend] receives
// one datagram with its sender, [SendToSend] sends one.
//
// # The loop
//
// Sockets belong to the goroutine running their context's loop, as the
// context does, and no goroutine is started per socket. A socket keeps one
// fd event, present only while a request on it waits: an idle socket holds
// nothing in the loop, so Context.LoopWait returns once only idle sockets
// remain. Reads and writes are tried at once before waiting, and a request
// finished inside its Send function calls back through Req.Post;
// [ReadSomeFuncSend] and [AcceptSend] always wait for the loop instead, so
// their callbacks run straight from the fd handler. A handler makes up to
// 8 reads (16 accepts) per readiness report when each callback starts the
// next, so a busy stream or listener is not served one iteration at a time.
//
// Sockets own their descriptors; closing the context does not close them.
// Context.Close removes the events of requests in flight, but an idle
// socket is not known to the loop at all, so a server keeps track of its
// connections and closes them when it shuts down (as the demo's servers do
// before their loop stops).
//
// # Errors
//
// Failures wrap the errno in an [*OpError], so errors.Is(err,
// syscall.ECONNRESET) holds; io.EOF and io.ErrUnexpectedEOF are returned
// bare; a closed socket gives net.ErrClosed. Writes use MSG_NOSIGNAL: no
// SIGPIPE is ever raised.
package tsocket
