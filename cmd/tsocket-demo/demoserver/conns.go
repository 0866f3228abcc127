package demoserver

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Conns is a server's connections on one loop: the accept loop that brings
// them (one AcceptSend in flight; accept errors, EMFILE and the like after
// tsocket's own back-off, logged and the loop carried on), the read buffer
// they share, and the set of those still open. C is the server's
// connection type. A Conns belongs to the loop goroutine.
type Conns[C comparable] struct {
	acc    *acceptor
	shared []byte
	open   map[C]struct{}
}

// NewConns starts accepting on l, which it takes over, and hands each
// stream to serve on the loop; serve Adds the connection it makes. Accept
// errors go to logf prefixed with name.
func NewConns[C comparable](ev *tevent.Context, l *tsocket.Listener, name string, serve func(*tsocket.Stream), logf func(format string, args ...any)) *Conns[C] {
	return &Conns[C]{
		acc:    newAcceptor(ev, l, name, serve, logf),
		shared: make([]byte, sharedReadBuf),
		open:   make(map[C]struct{}),
	}
}

// Shared returns the read buffer the connections share, for [NewReader].
func (cs *Conns[C]) Shared() []byte { return cs.shared }

// Add counts c as open.
func (cs *Conns[C]) Add(c C) { cs.open[c] = struct{}{} }

// Remove counts c as closed.
func (cs *Conns[C]) Remove(c C) { delete(cs.open, c) }

// Len returns the number of open connections.
func (cs *Conns[C]) Len() int { return len(cs.open) }

// Close stops accepting, closes the listener and calls drop for every open
// connection (drop may Remove it). It reports false, and does nothing, if
// it was closed already.
func (cs *Conns[C]) Close(drop func(C)) bool {
	if !cs.acc.close() {
		return false
	}
	for c := range cs.open {
		drop(c)
	}
	return true
}
