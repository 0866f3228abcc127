package servers

import (
	"github.com/lesismal/nbio"
	"github.com/lesismal/nbio/logging"
)

// nbioServer is nbio with one poller goroutine locked to its thread (nbio
// also runs its listener on a goroutine of its own); OnData writes back
// what was read.
type nbioServer struct{ g *nbio.Engine }

func init() { register("nbio", startNbio) }

func startNbio(cfg Config) (Server, error) {
	logging.SetLevel(logging.LevelError)
	g := nbio.NewEngine(nbio.Config{
		Network:        "tcp",
		Addrs:          []string{cfg.Addr},
		NPoller:        cfg.Loops,
		ReadBufferSize: cfg.Buf,
		LockPoller:     true,
	})
	if cfg.Mode == Sink {
		g.OnOpen(func(c *nbio.Conn) { c.SetSession(new(Counter)) })
		g.OnData(func(c *nbio.Conn, data []byte) {
			if k := c.Session().(*Counter).Add(len(data)); k > 0 {
				_, _ = c.Write(Acks(k))
			}
		})
	} else {
		g.OnData(func(c *nbio.Conn, data []byte) { _, _ = c.Write(data) })
	}
	if err := g.Start(); err != nil {
		return nil, err
	}
	return &nbioServer{g: g}, nil
}

func (s *nbioServer) Close() error {
	s.g.Stop()
	return nil
}
