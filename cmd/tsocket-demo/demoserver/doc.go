// Package demoserver holds the [Reader] the demo's RESP server (package
// resp beside it) reads with: one per connection, reading into the loop's
// shared buffer and keeping only an unfinished command in a buffer of its
// own, so that a connection waiting for its next command holds none.
//
//	c := &conn{s: s, r: demoserver.NewReader(limit, srv.shared)}
//	c.r.Read(ev, s, c.readDone) // parse c.r.Buffered(), c.r.Consume(n)
//
// A Reader belongs to the loop goroutine: it is not safe for concurrent
// use, and its callback must not block.
package demoserver
