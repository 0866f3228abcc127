package servers

import (
	"context"
	"fmt"

	"github.com/panjf2000/gnet/v2"
)

// gnetServer is gnet v2 with one event loop locked to its thread: OnTraffic
// takes everything buffered with Next(-1) and writes it back.
type gnetServer struct {
	gnet.BuiltinEventEngine
	cfg   Config
	proto string
	ready chan struct{}
	done  chan error
	eng   gnet.Engine // set by OnBoot, before ready closes
}

func init() { register("gnet", startGnet) }

func startGnet(cfg Config) (Server, error) {
	s := &gnetServer{cfg: cfg, proto: "tcp://" + cfg.Addr, ready: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		s.done <- gnet.Run(s, s.proto,
			gnet.WithMulticore(false),
			gnet.WithNumEventLoop(cfg.Loops),
			gnet.WithReusePort(cfg.Loops > 1),
			gnet.WithLockOSThread(true),
			gnet.WithReadBufferCap(cfg.Buf),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithLogger(quietLogger{}))
	}()
	select {
	case <-s.ready:
		return s, nil
	case err := <-s.done:
		return nil, fmt.Errorf("gnet: %w", err)
	}
}

func (s *gnetServer) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	close(s.ready)
	return gnet.None
}

func (s *gnetServer) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if s.cfg.Mode == Sink {
		c.SetContext(new(Counter))
	}
	return nil, gnet.None
}

func (s *gnetServer) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Next(-1)
	if s.cfg.Mode == Sink {
		if k := c.Context().(*Counter).Add(len(buf)); k > 0 {
			_, _ = c.Write(Acks(k))
		}
		return gnet.None
	}
	_, _ = c.Write(buf)
	return gnet.None
}

func (s *gnetServer) Close() error {
	err := s.eng.Stop(context.Background())
	if e := <-s.done; err == nil {
		err = e
	}
	return err
}

// quietLogger drops gnet's log lines (it logs its start at info level).
type quietLogger struct{}

func (quietLogger) Debugf(string, ...any) {}
func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(string, ...any) {}
