package resp

import (
	"errors"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Loops is a Server on every loop of a tevent.Group: one port, shared
// through SO_REUSEPORT when there are several loops, and one Keyspace.
// Its methods are called from a goroutine other than the loops' (the one
// that started the group); they reach each Server on its own loop.
type Loops struct {
	// Addr is the address the servers listen on, with the port the first
	// one picked when the address asked for port 0.
	Addr    tsocket.Address
	g       *tevent.Group
	servers []*Server
}

// StartLoops starts g's loops with a Server on each, listening on addr,
// all serving one Keyspace with cfg. logf, if not nil, becomes each
// Server's Log.
func StartLoops(g *tevent.Group, addr tsocket.Address, cfg Config, logf func(format string, args ...any)) (*Loops, error) {
	evs := g.Contexts()
	ls := &Loops{g: g, servers: make([]*Server, len(evs))}
	ks := NewKeyspace(evs...)
	var opt []tsocket.ListenOption
	if len(evs) > 1 {
		opt = append(opt, tsocket.ReusePort())
	}
	// The first listener picks the port when addr says port 0; the others
	// join it.
	first := make(chan tsocket.Address, 1)
	err := g.Start(func(i int, ev *tevent.Context) error {
		a := addr
		if i > 0 {
			var ok bool
			if a, ok = <-first; !ok {
				return errors.New("the first loop could not listen")
			}
			first <- a
		}
		l, err := tsocket.Listen(ev, a, opt...)
		if err != nil {
			if i == 0 {
				close(first)
			}
			return err
		}
		if i == 0 {
			first <- l.Addr()
		}
		// Every loop holds keys of the others' clients: it must run
		// until all have shut down, even once its own clients are gone.
		// Stopping the group closes it.
		ev.AddTimer(ev.Now().Add(100*365*24*time.Hour), func(*tevent.Timer, time.Time) {})
		ls.servers[i] = NewServer(ev, l, ks, cfg)
		ls.servers[i].Log = logf
		return nil
	})
	if err != nil {
		return nil, errors.Join(err, g.Stop())
	}
	ls.Addr = <-first
	return ls, nil
}

// Conns returns each loop's number of open connections.
func (ls *Loops) Conns() ([]int, error) {
	out := make([]int, len(ls.servers))
	for i, ev := range ls.g.Contexts() {
		got := make(chan int, 1)
		if err := ev.Post(func() { got <- ls.servers[i].Conns() }); err != nil {
			return nil, err
		}
		out[i] = <-got
	}
	return out, nil
}

// Shutdown shuts every Server down with ShutdownSend, all at once, waits
// until all have finished, and then stops the group. The loops keep
// running until the last Server has finished, since a client of one may
// still wait for a command on another. It returns the shutdowns' errors
// (a tsocket.ShutdownError for clients closed by force after grace) and
// those of stopping the group apart: the first are news, the second
// failures.
func (ls *Loops) Shutdown(grace time.Duration) (shutdown, stop error) {
	done := make(chan error, len(ls.servers))
	for i, ev := range ls.g.Contexts() {
		srv := ls.servers[i]
		if err := ev.Post(func() {
			ShutdownSend(ev, srv, grace).SetCallback(func(req *tevent.Req[struct{}]) {
				done <- ShutdownRecv(req)
			})
		}); err != nil {
			done <- err
		}
	}
	var errs []error
	for range ls.servers {
		errs = append(errs, <-done)
	}
	return errors.Join(errs...), ls.g.Stop()
}

// Close closes every Server at once and stops the group.
func (ls *Loops) Close() error {
	for i, ev := range ls.g.Contexts() {
		// A loop already closed has closed its Server too.
		_ = ev.Post(ls.servers[i].Close)
	}
	return ls.g.Stop()
}
