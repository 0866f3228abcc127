package servers

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
)

// netServer is Go's net package, one goroutine per connection, each with
// its own read buffer: the baseline every ratio is taken against. With
// Config.TLS its connections are crypto/tls ones (tls.NewListener), the
// handshake done by the connection's first read.
type netServer struct {
	l     net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func init() { register("net", startNet) }

func startNet(cfg Config) (Server, error) {
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		l = tls.NewListener(l, cfg.TLS)
	}
	s := &netServer{l: l, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.acceptLoop(cfg)
	return s, nil
}

func (s *netServer) acceptLoop(cfg Config) {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ECONNABORTED, EMFILE: keep serving
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.forget(c)
			switch cfg.Mode {
			case RESP:
				serveRESP(c)
			default:
				serveNet(c, cfg)
			}
		}()
	}
}

func serveNet(c net.Conn, cfg Config) {
	buf := make([]byte, cfg.Buf)
	var sink Counter
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		out := buf[:n]
		if cfg.Mode == Sink {
			k := sink.Add(n)
			if k == 0 {
				continue
			}
			out = Acks(k)
		}
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func (s *netServer) forget(c net.Conn) {
	c.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *netServer) Close() error {
	err := s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}
