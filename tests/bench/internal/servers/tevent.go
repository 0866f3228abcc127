package servers

import (
	"fmt"
	"net/netip"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// teventGroup runs cfg.Loops gotevent loops with tevent.Group, one
// SO_REUSEPORT listener per loop, and a per-loop server built by newLoop.
type teventGroup struct {
	g     *tevent.Group
	loops []loopServer
}

// loopServer is one loop's share of a gotevent server; closeAll runs on the
// loop goroutine.
type loopServer interface{ closeAll() }

func startTeventGroup(cfg Config, newLoop func(ev *tevent.Context, l *tsocket.Listener) (loopServer, error)) (Server, error) {
	ap, err := netip.ParseAddrPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("gotevent: address %q: %w", cfg.Addr, err)
	}
	addr, err := tsocket.InetAddress("ip", ap.Addr().String(), int(ap.Port()))
	if err != nil {
		return nil, err
	}
	g, err := tevent.NewGroup(cfg.Loops)
	if err != nil {
		return nil, err
	}
	s := &teventGroup{g: g, loops: make([]loopServer, cfg.Loops)}
	err = g.Start(func(i int, ev *tevent.Context) error {
		var opts []tsocket.ListenOption
		if cfg.Loops > 1 {
			opts = append(opts, tsocket.ReusePort())
		}
		l, err := tsocket.Listen(ev, addr, opts...)
		if err != nil {
			return err
		}
		ls, err := newLoop(ev, l)
		if err != nil {
			l.Close()
			return err
		}
		s.loops[i] = ls
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *teventGroup) Close() error {
	for i, ev := range s.g.Contexts() {
		// A posted function runs at the latest while Close tears the
		// context down, on its loop goroutine.
		_ = ev.Post(s.loops[i].closeAll)
	}
	return s.g.Stop()
}
