package load

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// TLS connections are driven by crypto/tls on goroutines, not by the
// epoll loop: a handshake is many small exchanges whose cost is the
// cryptography on both sides, and the client's share of it does not
// change the server's CPU per handshake, which is what these modes
// measure. On GOMAXPROCS=1 the goroutines still share one thread.

// PING is one RESP PING and the reply it draws.
const (
	PING     = "*1\r\n$4\r\nPING\r\n"
	PINGResp = "+PONG\r\n"
)

// runTLS runs cfg.Mode (Connect or Idle) over TLS with cfg.TLS.
func runTLS(cfg Config) (Result, error) {
	if len(cfg.Req) == 0 || cfg.RespLen <= 0 {
		return Result{}, errors.New("load: TLS modes need Req and RespLen")
	}
	switch cfg.Mode {
	case Connect:
		return tlsConnect(cfg)
	case Idle:
		return tlsIdle(cfg)
	}
	return Result{}, fmt.Errorf("load: mode %q does not run over TLS (connect and idle do)", cfg.Mode)
}

// tlsOnce dials, completes a full handshake, writes cfg.Req and reads
// cfg.RespLen bytes, within 10 s. The caller closes the connection.
func tlsOnce(cfg Config, d *net.Dialer) (*tls.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := d.DialContext(ctx, "tcp4", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	c := tls.Client(raw, cfg.TLS)
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	if err := c.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("load: handshake: %w", err)
	}
	if _, err := c.Write(cfg.Req); err != nil {
		c.Close()
		return nil, fmt.Errorf("load: write: %w", err)
	}
	if _, err := io.ReadFull(c, make([]byte, cfg.RespLen)); err != nil {
		c.Close()
		return nil, fmt.Errorf("load: read: %w", err)
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// openAll runs open(i) for every i below n, at most conc at once, starts
// no more once one has failed, and returns the first error.
func openAll(n, conc int, open func(i int) error) error {
	sem := make(chan struct{}, max(1, conc))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	for i := 0; i < n && !failed(); i++ {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := open(i); err != nil {
				mu.Lock()
				firstErr = cmp.Or(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// tlsConnect keeps cfg.Conns connections in their short life at once:
// connect, full handshake, one request and its reply, close (close_notify,
// then RST as in Connect mode, so neither side keeps TIME_WAIT). A
// message is one connection. More than 1 % of attempts failing fails the
// run with the first error.
func tlsConnect(cfg Config) (Result, error) {
	d := &net.Dialer{}
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		msgs      atomic.Int64
		tries     atomic.Int64
		errs      atomic.Int64
		firstErr  error
		errOnce   sync.Once
		wg        sync.WaitGroup
	)
	for range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				c, err := tlsOnce(cfg, d)
				m := measuring.Load()
				if m {
					tries.Add(1)
				}
				if err != nil {
					if m {
						errs.Add(1)
					}
					errOnce.Do(func() { firstErr = err })
					if !m { // warm-up: a server that cannot serve fails at once
						stop.Store(true)
					}
					continue
				}
				if tc, ok := c.NetConn().(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				c.Close()
				if m {
					msgs.Add(1)
				}
			}
		}()
	}
	deadline := time.Now().Add(cfg.Warmup)
	for time.Now().Before(deadline) && !stop.Load() {
		time.Sleep(5 * time.Millisecond)
	}
	if stop.Load() {
		wg.Wait()
		return Result{}, firstErr
	}
	if cfg.Start != nil {
		cfg.Start()
	}
	t0, cpu0 := time.Now(), cpuTime()
	measuring.Store(true)
	time.Sleep(cfg.Duration)
	measuring.Store(false)
	res := Result{Msgs: msgs.Load(), Elapsed: time.Since(t0), ClientCPU: cpuTime() - cpu0, Conns: cfg.Conns, Errors: errs.Load()}
	res.Bytes = res.Msgs * int64(len(cfg.Req)+cfg.RespLen)
	if cfg.Stop != nil {
		cfg.Stop(res)
	}
	stop.Store(true)
	wg.Wait()
	if n := tries.Load(); res.Errors > 0 && res.Errors*100 > n {
		return res, fmt.Errorf("load: %d of %d TLS connections failed: %w", res.Errors, n, firstErr)
	}
	return res, nil
}

// tlsIdle opens cfg.Conns TLS connections, at most DialConcurrency
// handshaking at once; each sends one request and reads its reply, then
// all stay open until Hold returns.
func tlsIdle(cfg Config) (Result, error) {
	d := &net.Dialer{}
	conns := make([]*tls.Conn, cfg.Conns)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	err := openAll(len(conns), cfg.DialConcurrency, func(i int) error {
		c, err := tlsOnce(cfg, d)
		conns[i] = c
		return err
	})
	if err != nil {
		return Result{}, err
	}
	res := Result{Conns: len(conns), Msgs: int64(len(conns))}
	if cfg.Hold != nil {
		cfg.Hold(res)
	}
	return res, nil
}
