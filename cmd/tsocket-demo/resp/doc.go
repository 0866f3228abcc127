// Package resp is the demo's RESP (Redis) server: a subset of the protocol
// that redis-cli and redis-benchmark can talk to, served over tsocket
// streams on one loop. [Parse] is a pure function over bytes with
// documented caps, so it is fuzzed and tested without sockets; [Store]
// executes the commands; [Server] drives both over the connections it
// accepts.
//
//	ev, _ := tevent.NewContext()
//	l, _ := tsocket.Listen(ev, addr)
//	srv := resp.NewServer(ev, l, resp.NewStore())
//	defer srv.Close()
//	ev.Run(ctx)
//
// Everything here belongs to the loop goroutine. A multi-loop server runs
// one Server and one Store per loop (keys are per loop, as in a sharded
// deployment without a router).
package resp
