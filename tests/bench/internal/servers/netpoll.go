package servers

import (
	"context"
	"sync"
	"time"

	"github.com/cloudwego/netpoll"
)

// netpollServer is cloudwego/netpoll with one poll loop; OnRequest runs on
// netpoll's goroutine pool as netpoll intends, reads everything buffered
// and writes it back zero-copy (WriteBinary), then flushes.
type netpollServer struct {
	loop netpoll.EventLoop
	done chan error
}

type sinkKey struct{}

var netpollOnce sync.Once

func init() { register("netpoll", startNetpoll) }

func startNetpoll(cfg Config) (Server, error) {
	var err error
	netpollOnce.Do(func() {
		// The poll loops are process-wide in netpoll; set their number once.
		err = netpoll.Configure(netpoll.Config{PollerNum: cfg.Loops})
	})
	if err != nil {
		return nil, err
	}
	l, err := netpoll.CreateListener("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	onRequest := func(ctx context.Context, c netpoll.Connection) error {
		r := c.Reader()
		buf, err := r.Next(r.Len())
		if err != nil {
			return err
		}
		if cfg.Mode == Sink {
			k := ctx.Value(sinkKey{}).(*Counter).Add(len(buf))
			if err := r.Release(); err != nil {
				return err
			}
			if k == 0 {
				return nil
			}
			buf = Acks(k)
		}
		w := c.Writer()
		if _, err := w.WriteBinary(buf); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return r.Release()
	}
	opts := []netpoll.Option{}
	if cfg.Mode == Sink {
		opts = append(opts, netpoll.WithOnPrepare(func(netpoll.Connection) context.Context {
			return context.WithValue(context.Background(), sinkKey{}, new(Counter))
		}))
	}
	loop, err := netpoll.NewEventLoop(onRequest, opts...)
	if err != nil {
		l.Close()
		return nil, err
	}
	s := &netpollServer{loop: loop, done: make(chan error, 1)}
	go func() { s.done <- loop.Serve(l) }()
	return s, nil
}

func (s *netpollServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.loop.Shutdown(ctx)
	<-s.done
	return err
}
