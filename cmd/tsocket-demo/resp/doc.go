// Package resp is the demo's RESP (Redis) server: a subset of the protocol
// that redis-cli and redis-benchmark can talk to, over tsocket streams,
// plain or TLS, on one loop or several. [Parser] is pure functions over
// bytes with documented caps, so it is fuzzed and tested without sockets;
// a [Store] runs the commands on one loop's keys; a [Keyspace] spreads
// the keys over the loops; a [Server] per loop drives them over the
// connections tsocket.Serve accepts.
//
//	ev, _ := tevent.NewContext()
//	l, _ := tsocket.Listen(ev, addr)
//	srv := resp.NewServer(ev, l, resp.NewKeyspace(ev), resp.DefaultConfig())
//	defer srv.Close()
//	ev.Run(ctx)
//
// # Flow control
//
// Each connection writes its replies through a tsocket.Writer, and checks
// them before every command, as Redis checks its client-output-buffer-limit
// where the memory is committed: a client whose waiting replies pass
// Config.OutputSoft has its commands, read or not, wait until the replies
// have drained to half of it (a tsocket.WriterDrainSend), and nothing more
// is read from it meanwhile; a reply that would take it past
// Config.OutputHard disconnects it with a reset, and so does staying over
// Config.OutputSoft for Config.OutputSoftTime (Redis's soft seconds, 60 by
// default, the flag --output-soft-seconds): a paused client that never
// reads is not held for ever. A GET reply of a long value is written from
// the stored value itself, so a client asking for the same large value a
// thousand times costs the server the value once.
// A client that shuts down its side with replies still waiting gets every
// one of them (tsocket.WriterCloseSend) before the server closes.
//
// # Reading
//
// A connection reads with ReadSomeFuncSend into its loop's shared buffer
// (demoserver.Reader), and keeps a buffer of its own only for a command
// that a read left unfinished. A small command is parsed and run where it
// lies. A long one is taken apart: a bulk string of more than 16 KiB is
// read into its own buffer, the one the store keeps, with what is
// buffered of it copied and the rest read straight from the socket
// (ReadvSend); a length past Config.MaxBulk is a protocol error. The
// buffer runs at most 1 MiB ahead of the bytes of the value received (or
// as much again as has arrived, past that, growing by doubling), so a
// client announcing $536870912 and sending nothing makes the server
// allocate 1 MiB, not 512; a value of up to 1 MiB is read into one buffer
// of its exact size.
//
// After a plain connection's SET of a large value (up to 240 KiB), its
// next command is guessed to have the same shape and read with one
// ReadvSomeFuncSend: the header's length of the shared buffer, a value
// buffer of the value's size, the rest of the shared buffer. A right guess
// brings header, value and what follows in one call, the value already in
// place; a wrong one costs a copy, and is not made again for a while
// (guess.go).
//
// # Value buffers
//
// Go clears every buffer it allocates and collects every one dropped, so
// a loop's Store keeps the buffers of large values (4 KiB and more) that
// SET and DEL let go of, up to 8 MiB, and the next large value read on
// that loop goes into one of them. A buffer is kept only once nothing can
// read it: not while a GET reply written from it waits in a connection's
// Writer on this loop (the connection counts those until its Writer has
// written everything), and never if it went to another loop as a GET
// result.
//
// # Several loops
//
// With a Keyspace over N loops, each key belongs to one loop (its hash
// modulo N) and lives in that loop's Store. A command on a key another
// loop owns is carried there with tevent.CallSend, on a copy of its
// arguments, and its result comes back to the connection's loop, which
// replies. A connection runs its commands in order: while one is away,
// the next waits. A run of pipelined commands on keys of one other loop
// goes there in one call (up to 64, stopping where the replies would pass
// the soft limit), which runs them in order as they would run one by one.
// DEL and EXISTS on keys of several loops run on each owner, side by side,
// and reply with the sum.
//
// Everything here belongs to the loop goroutine of the Server or Store in
// question; a Keyspace is shared, read-only, by all of them.
package resp
