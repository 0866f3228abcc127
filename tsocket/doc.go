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
// A [Reader] does that parsing for record protocols, as bufio.Reader does
// for an io.Reader: [ReadUntilSend] returns the next line (or any record
// ending in a delimiter) as a slice of its buffer, and [ReadFullSend]
// fills a buffer with a payload of known size, reading what it does not
// hold straight into place. A record over the Reader's limit fails with
// [ErrRecordTooLong] and is skipped, so the stream stays usable and an
// endless line costs no more than the limit. The Reader owns the stream's
// read side; it shares its record splitting with the callback-mask API's
// MaskEvent.ReadUntil.
//
// One read and one write may be in flight on a stream; a second fails with
// [ErrBusy]. [WritevQueueSend] and [ReadvPDUQueueSend] go through a
// [tqueue.Queue] instead, so that any number of writers take turns.
// Streams also carry Cyrus-style wait events ([Stream.AddWaitEvent]): timed
// callbacks that reschedule themselves, for idle timeouts and keep-alives.
//
// A server writes its replies through a [Writer], a stream's outbox:
// [Writer.Write] queues buffers without copying them and returns, and the
// Writer keeps one writev in flight carrying everything queued since the
// last one started. [WriterLimits] bound it: past Soft, [Writer.OverSoft]
// tells the server to stop reading that client until [WriterDrainSend]
// reports that it caught up; past Hard, Write refuses with [ErrWriterFull]
// and the server disconnects the client. [WriterCloseSend] writes what is
// queued, then closes, so a client that half-closed after its last
// request still gets every reply.
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
// connections and closes them when it shuts down: [Serve] does that.
//
// # Servers
//
// [Serve] accepts on a listener and hands each stream to a handler,
// tracking it until it is closed (by the handler with Stream.Close, or by
// the Server): [Server.Conns] counts them, [Server.SetMaxConns] bounds
// them by pausing the accepts. [ShutdownSend] is the graceful stop, as
// net/http's Shutdown: it closes the listener, calls the
// [Server.OnShutdown] hook for each open stream (where a server says BYE),
// waits for the handlers to close them for a grace period on the loop's
// clock, closes the rest, and reports how many in a [ShutdownError];
// [Server.Close] and Context.Close close everything at once.
//
//	srv := tsocket.Serve(ev, l, handle)
//	srv.OnShutdown(func(s *tsocket.Stream) { sayBye(s) })
//	...
//	req := tsocket.ShutdownSend(ev, srv, 10*time.Second) // on SIGTERM
//
// [CloseWriteSend] half-closes a stream once its writev is over, and
// [ListenBuffers] and [ConnectBuffers] size the kernel's buffers before
// the handshake fixes TCP's window scale. A connection moves to another
// process over a unix stream: [Stream.Detach] gives its descriptor up,
// [SendFDsSend] and [RecvFDsSend] pass descriptors (SCM_RIGHTS) with the
// bytes of a message, and [ExistingSocket] makes a stream of it again.
//
// [NetConn] makes a stream a net.Conn for another goroutine, so that
// bufio, net/textproto and other net.Conn code run on it: each call posts
// its work to the loop and waits for it, at two goroutine switches a call.
//
// # TLS
//
// [TLSServerSend] and [TLSClientSend] run a crypto/tls handshake on a
// stream and return a new *Stream that owns it (Samba's tstream_tls): every
// request above, the Reader, the Writer and [NetConn] work on it unchanged,
// [DisconnectSend] sends close_notify, and [Stream.TLSConnectionState]
// tells what was negotiated. Called on a stream that has talked in the
// clear, it is STARTTLS. The handshake runs on a bounded goroutine pool
// while the loop does its I/O; SetEndTime on the request bounds it.
//
// # Errors
//
// Failures wrap the errno in an [*OpError], so errors.Is(err,
// syscall.ECONNRESET) holds; io.EOF and io.ErrUnexpectedEOF are returned
// bare; a closed socket gives net.ErrClosed. Writes use MSG_NOSIGNAL
// (darwin: the sockets have SO_NOSIGPIPE): no SIGPIPE is ever raised.
package tsocket
