// Package load is the benchmark's load generator: one OS thread driving
// non-blocking sockets through epoll, so that on a two-core machine the
// client costs as little per message as the leanest server and the
// comparison is the servers', not the client's. It speaks in batches: a
// connection writes Req, waits for RespLen bytes, counts Msgs messages and
// writes again (ping-pong when a batch is one message, pipelining when it
// holds several). Bytes are counted, not parsed, so a batch must always
// draw exactly RespLen bytes (true of echo, and of the RESP SET/GET mix).
package load

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// Mode is the shape of the load.
type Mode string

const (
	// PingPong: Conns connections, each with one batch in flight.
	PingPong Mode = "pingpong"
	// Bulk: Conns connections each write without pause; the server
	// acknowledges every MiB with one byte, and a message is one MiB.
	Bulk Mode = "bulk"
	// Connect: Conns slots, each connecting, sending one byte, reading its
	// echo and closing with RST (SO_LINGER 0); a message is one connection.
	Connect Mode = "connect"
	// Idle: open Conns connections, each sends one batch and reads its
	// reply, then they stay open until Hold returns.
	Idle Mode = "idle"
)

// Config describes one run.
type Config struct {
	Addr     string
	Mode     Mode
	Conns    int
	Req      []byte // one batch (PingPong, Idle)
	RespLen  int    // bytes a batch draws
	Msgs     int    // messages in a batch
	Warmup   time.Duration
	Duration time.Duration
	// DialConcurrency bounds connects in flight while connections are
	// opened, so the server's accept backlog never overflows.
	DialConcurrency int
	// Start and Stop are called when the measured window opens and closes
	// (the harness samples the server's CPU time then).
	Start func()
	Stop  func(Result)
	// Hold is called in Idle mode once every connection is open and has
	// been answered; the connections close when it returns.
	Hold func(Result)
	// TLS, if set, runs Connect or Idle over TLS with this client
	// configuration (see tls.go): a Connect message is then a full
	// handshake, Req and its reply.
	TLS *tls.Config
}

// Result is what a run measured over its window.
type Result struct {
	Msgs      int64         `json:"msgs"`
	Bytes     int64         `json:"bytes"`
	Elapsed   time.Duration `json:"elapsed_ns"`
	ClientCPU time.Duration `json:"client_cpu_ns"`
	Conns     int           `json:"conns"`
	Errors    int64         `json:"errors"`
}

// Run runs the load on a locked OS thread and returns the measured window.
func Run(cfg Config) (Result, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	ap, err := netip.ParseAddrPort(cfg.Addr)
	if err != nil {
		return Result{}, fmt.Errorf("load: address %q: %w", cfg.Addr, err)
	}
	if !ap.Addr().Is4() {
		return Result{}, fmt.Errorf("load: only IPv4 addresses: %q", cfg.Addr)
	}
	if cfg.DialConcurrency <= 0 {
		cfg.DialConcurrency = 128
	}
	if cfg.Msgs <= 0 {
		cfg.Msgs = 1
	}
	if cfg.TLS != nil {
		return runTLS(cfg)
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return Result{}, fmt.Errorf("load: epoll_create1: %w", err)
	}
	defer unix.Close(epfd)
	g := &gen{cfg: cfg, epfd: epfd, sa: &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()},
		events: make([]unix.EpollEvent, 512), scratch: make([]byte, 256<<10)}
	defer g.closeAll()
	switch cfg.Mode {
	case PingPong, Idle:
		return g.pingPong()
	case Bulk:
		return g.bulk()
	case Connect:
		return g.connectRate()
	}
	return Result{}, fmt.Errorf("load: unknown mode %q", cfg.Mode)
}

type conn struct {
	fd   int
	got  int // bytes of the current batch received
	woff int // bytes of the current write done; -1 when none pending
	out  []byte
	open bool
}

type gen struct {
	cfg     Config
	epfd    int
	sa      *unix.SockaddrInet4
	conns   []*conn
	byFd    map[int]*conn
	events  []unix.EpollEvent
	scratch []byte

	measuring bool
	res       Result
	t0        time.Time
	cpu0      time.Duration
	deadline  time.Time
}

func (g *gen) closeAll() {
	for _, c := range g.conns {
		if c.open {
			unix.Close(c.fd)
			c.open = false
		}
	}
}

func cpuTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// phase moves from warm-up to the measured window to the end; it returns
// true when the run is over.
func (g *gen) phase(now time.Time) bool {
	if now.Before(g.deadline) {
		return false
	}
	if !g.measuring {
		g.measuring = true
		g.res = Result{Conns: len(g.conns)}
		if g.cfg.Start != nil {
			g.cfg.Start()
		}
		g.t0 = time.Now()
		g.cpu0 = cpuTime()
		g.deadline = g.t0.Add(g.cfg.Duration)
		return false
	}
	g.res.Elapsed = now.Sub(g.t0)
	g.res.ClientCPU = cpuTime() - g.cpu0
	if g.cfg.Stop != nil {
		g.cfg.Stop(g.res)
	}
	return true
}

func (g *gen) count(msgs, bytes int) {
	if g.measuring {
		g.res.Msgs += int64(msgs)
		g.res.Bytes += int64(bytes)
	}
}

func (g *gen) socket() (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("load: socket: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	err = unix.Connect(fd, g.sa)
	if err != nil && err != unix.EINPROGRESS {
		unix.Close(fd)
		return -1, fmt.Errorf("load: connect: %w", err)
	}
	return fd, nil
}

func (g *gen) ctl(op, fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	if err := unix.EpollCtl(g.epfd, op, fd, &ev); err != nil {
		return fmt.Errorf("load: epoll_ctl: %w", err)
	}
	return nil
}

func (g *gen) wait(msec int) (int, error) {
	for {
		n, err := unix.EpollWait(g.epfd, g.events, msec)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("load: epoll_wait: %w", err)
		}
		return n, nil
	}
}

// dial opens cfg.Conns connections, at most DialConcurrency connecting at
// once, and leaves them registered for EPOLLIN.
func (g *gen) dial() error {
	g.byFd = make(map[int]*conn, g.cfg.Conns)
	pending := 0
	started := 0
	deadline := time.Now().Add(60 * time.Second)
	for started < g.cfg.Conns || pending > 0 {
		for started < g.cfg.Conns && pending < g.cfg.DialConcurrency {
			fd, err := g.socket()
			if err != nil {
				return err
			}
			c := &conn{fd: fd, woff: -1, open: true}
			g.conns = append(g.conns, c)
			g.byFd[fd] = c
			if err := g.ctl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLOUT); err != nil {
				return err
			}
			started++
			pending++
		}
		n, err := g.wait(100)
		if err != nil {
			return err
		}
		for i := range n {
			c := g.byFd[int(g.events[i].Fd)]
			if soErr, _ := unix.GetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR); soErr != 0 {
				return fmt.Errorf("load: connect %v: %w", g.cfg.Addr, unix.Errno(soErr))
			}
			if err := g.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLIN); err != nil {
				return err
			}
			pending--
		}
		if time.Now().After(deadline) {
			return errors.New("load: connections took over a minute to open")
		}
	}
	return nil
}

// send starts writing p on c; a write the socket does not take whole
// finishes on EPOLLOUT.
func (g *gen) send(c *conn, p []byte) error {
	n, err := unix.Write(c.fd, p)
	if err == unix.EAGAIN {
		n, err = 0, nil
	}
	if err != nil {
		return fmt.Errorf("load: write: %w", err)
	}
	if n < len(p) {
		c.out, c.woff = p, n
		return g.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLIN|unix.EPOLLOUT)
	}
	return nil
}

func (g *gen) flush(c *conn) error {
	n, err := unix.Write(c.fd, c.out[c.woff:])
	if err == unix.EAGAIN {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load: write: %w", err)
	}
	if c.woff += n; c.woff == len(c.out) {
		c.woff, c.out = -1, nil
		return g.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLIN)
	}
	return nil
}

func (g *gen) pingPong() (Result, error) {
	if len(g.cfg.Req) == 0 || g.cfg.RespLen <= 0 {
		return Result{}, errors.New("load: ping-pong needs Req and RespLen")
	}
	if err := g.dial(); err != nil {
		return Result{}, err
	}
	for _, c := range g.conns {
		if err := g.send(c, g.cfg.Req); err != nil {
			return Result{}, err
		}
	}
	idle := g.cfg.Mode == Idle
	answered := 0
	g.deadline = time.Now().Add(g.cfg.Warmup)
	for {
		n, err := g.wait(10)
		if err != nil {
			return Result{}, err
		}
		for i := range n {
			ev := &g.events[i]
			c := g.byFd[int(ev.Fd)]
			if ev.Events&unix.EPOLLOUT != 0 && c.woff >= 0 {
				if err := g.flush(c); err != nil {
					return Result{}, err
				}
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
				continue
			}
			r, err := unix.Read(c.fd, g.scratch)
			if err == unix.EAGAIN {
				continue
			}
			if err != nil || r == 0 {
				return Result{}, fmt.Errorf("load: read: server closed the connection (%v)", err)
			}
			c.got += r
			for c.got >= g.cfg.RespLen {
				c.got -= g.cfg.RespLen
				g.count(g.cfg.Msgs, len(g.cfg.Req)+g.cfg.RespLen)
				if idle {
					answered++
					continue
				}
				if err := g.send(c, g.cfg.Req); err != nil {
					return Result{}, err
				}
			}
		}
		if idle {
			if answered == len(g.conns) {
				res := Result{Conns: len(g.conns), Msgs: int64(answered)}
				if g.cfg.Hold != nil {
					g.cfg.Hold(res)
				}
				return res, nil
			}
			continue
		}
		if g.phase(time.Now()) {
			return g.res, nil
		}
	}
}

func (g *gen) bulk() (Result, error) {
	if err := g.dial(); err != nil {
		return Result{}, err
	}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i)
	}
	offs := make(map[int]int, len(g.conns))
	for _, c := range g.conns {
		if err := g.ctl(unix.EPOLL_CTL_MOD, c.fd, unix.EPOLLIN|unix.EPOLLOUT); err != nil {
			return Result{}, err
		}
	}
	g.deadline = time.Now().Add(g.cfg.Warmup)
	for {
		n, err := g.wait(10)
		if err != nil {
			return Result{}, err
		}
		for i := range n {
			ev := &g.events[i]
			fd := int(ev.Fd)
			if ev.Events&(unix.EPOLLIN|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
				r, err := unix.Read(fd, g.scratch)
				if err != nil && err != unix.EAGAIN || r == 0 && err == nil {
					return Result{}, fmt.Errorf("load: read: server closed the connection (%v)", err)
				}
				if r > 0 {
					g.count(r, 0) // one acknowledgement byte per MiB
				}
			}
			if ev.Events&unix.EPOLLOUT != 0 {
				off := offs[fd]
				w, err := unix.Write(fd, chunk[off:])
				if err != nil && err != unix.EAGAIN {
					return Result{}, fmt.Errorf("load: write: %w", err)
				}
				if w > 0 {
					offs[fd] = (off + w) % len(chunk)
					if g.measuring {
						g.res.Bytes += int64(w)
					}
				}
			}
		}
		if g.phase(time.Now()) {
			return g.res, nil
		}
	}
}

// connectRate keeps Conns connections in their short life at once: connect,
// write one byte, read it back, close with RST.
func (g *gen) connectRate() (Result, error) {
	g.byFd = make(map[int]*conn)
	linger := &unix.Linger{Onoff: 1, Linger: 0}
	open := func() error {
		fd, err := g.socket()
		if err != nil {
			return err
		}
		g.byFd[fd] = &conn{fd: fd}
		return g.ctl(unix.EPOLL_CTL_ADD, fd, unix.EPOLLOUT)
	}
	for range g.cfg.Conns {
		if err := open(); err != nil {
			return Result{}, err
		}
	}
	defer func() {
		for fd := range g.byFd {
			unix.Close(fd)
		}
	}()
	one := []byte{'c'}
	g.deadline = time.Now().Add(g.cfg.Warmup)
	for {
		n, err := g.wait(10)
		if err != nil {
			return Result{}, err
		}
		for i := range n {
			ev := &g.events[i]
			fd := int(ev.Fd)
			c := g.byFd[fd]
			if c == nil {
				continue
			}
			if c.got == 0 { // connecting
				if soErr, _ := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR); soErr != 0 {
					return Result{}, fmt.Errorf("load: connect %v: %w", g.cfg.Addr, unix.Errno(soErr))
				}
				if _, err := unix.Write(fd, one); err != nil {
					return Result{}, fmt.Errorf("load: write: %w", err)
				}
				c.got = 1
				if err := g.ctl(unix.EPOLL_CTL_MOD, fd, unix.EPOLLIN); err != nil {
					return Result{}, err
				}
				continue
			}
			r, err := unix.Read(fd, g.scratch[:16])
			if err == unix.EAGAIN {
				continue
			}
			if err != nil || r == 0 {
				g.res.Errors++
			} else {
				g.count(1, 2)
			}
			_ = unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, linger)
			delete(g.byFd, fd)
			unix.Close(fd) // RST: no TIME_WAIT on either side
			if err := open(); err != nil {
				return Result{}, err
			}
		}
		if g.phase(time.Now()) {
			return g.res, nil
		}
	}
}
