// Package demoserver holds what the demo's servers (package resp and package
// imap beside it) share to drive tsocket streams on one loop: [Conns], a
// server's accept loop with the set of its open connections and the read
// buffer they share; a [Reader] per connection that reads into that shared
// buffer and keeps only an unfinished command in a buffer of its own; and a
// [Writer] per connection that keeps one writev in flight and gathers the
// replies produced meanwhile.
//
//	srv.conns = demoserver.NewConns[*conn](ev, l, "name", srv.serve, log.Printf)
//
//	func (srv *server) serve(s *tsocket.Stream) {
//		c := &conn{s: s, r: demoserver.NewReader(limit, srv.conns.Shared())}
//		c.w = demoserver.NewWriter(ev, s, c.drained)
//		srv.conns.Add(c)
//		c.r.Read(ev, s, c.readDone) // parse c.r.Buffered(), c.r.Consume(n)
//	}
//
// Everything here belongs to the loop goroutine: no type is safe for
// concurrent use, and none of the callbacks may block.
package demoserver
