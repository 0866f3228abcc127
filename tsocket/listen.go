package tsocket

import (
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// ListenOption configures Listen.
type ListenOption func(*listenConfig)

type listenConfig struct {
	reusePort bool
	backlog   int
	bufs      socketBuffers // ListenBuffers (options.go)
}

// ReusePort sets SO_REUSEPORT before binding, so that several listeners,
// typically one per event loop, can bind the same address and the kernel
// spreads incoming connections over them.
func ReusePort() ListenOption { return func(c *listenConfig) { c.reusePort = true } }

// Backlog sets the listen(2) backlog; the default is SOMAXCONN (the kernel
// caps it at net.core.somaxconn).
func Backlog(n int) ListenOption { return func(c *listenConfig) { c.backlog = n } }

// Accept back-off after EMFILE, ENFILE, ENOBUFS or ENOMEM: the loop stops
// watching the listener (level-triggered, it would be reported readable
// forever) and retries after a delay that doubles up to a cap.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
)

// Listener is a listening stream socket, TCP or unix. Connections are taken
// with [AcceptSend], one accept in flight at a time. A Listener with no
// accept in flight holds no event in the loop. It belongs to the goroutine
// running its context's loop; Close releases it.
type Listener struct {
	reg     fdReg
	network string
	addr    Address
	unlink  string // unix socket path this listener created
	closed  bool
	bufs    socketBuffers // ListenBuffers, set again on accepted unix streams

	req     *tevent.Req[*Stream]
	backoff time.Duration
	timer   *tevent.Timer
}

// Listen creates a listening socket bound to addr (port 0 picks a free
// port; Addr says which). TCP listeners set SO_REUSEADDR, as Go's net
// package does. A unix listener's socket file is removed by Close. opts
// are [ReusePort], [Backlog] and [ListenBuffers].
func Listen(ev *tevent.Context, addr Address, opts ...ListenOption) (*Listener, error) {
	cfg := listenConfig{backlog: unix.SOMAXCONN}
	for _, o := range opts {
		o(&cfg)
	}
	if addr == nil {
		return nil, opError("listen", "", nil, nil, ErrInvalidAddress)
	}
	network := streamNetwork(addr.domain())
	fail := func(err error) (*Listener, error) { return nil, opError("listen", network, addr, nil, err) }
	fd, err := newSocket(addr.domain(), unix.SOCK_STREAM)
	if err != nil {
		return fail(err)
	}
	if network == "tcp" {
		if err := sys.SetReuseAddr(fd); err != nil {
			closeFd(fd)
			return fail(sysErr("setsockopt", err))
		}
	}
	if cfg.reusePort {
		if err := sys.SetReusePort(fd); err != nil {
			closeFd(fd)
			return fail(sysErr("setsockopt", err))
		}
	}
	if err := cfg.bufs.set(fd); err != nil {
		closeFd(fd)
		return fail(err)
	}
	if err := bindTo(fd, addr); err != nil {
		closeFd(fd)
		return fail(err)
	}
	if err := sys.Listen(fd, cfg.backlog); err != nil {
		closeFd(fd)
		return fail(sysErr("listen", err))
	}
	l := &Listener{network: network, addr: addr, bufs: cfg.bufs}
	l.reg.init(ev, fd, l.onFD)
	if sa, err := sys.Getsockname(fd); err == nil {
		l.addr = fromSockaddr(sa)
	}
	if ua, ok := addr.(*UnixAddr); ok && ua.path != "" && ua.path[0] != '@' {
		l.unlink = ua.path
	}
	return l, nil
}

// Addr returns the address the listener is bound to, with the port the
// kernel chose for port 0.
func (l *Listener) Addr() Address { return l.addr }

// Fd returns the descriptor, which l still owns.
func (l *Listener) Fd() int { return l.reg.fd }

// Close closes the listener: an accept in flight fails with net.ErrClosed
// (its callback runs on a later iteration), and a unix socket file it
// created is removed (failing to remove it is an error, finding it gone
// is not). Closing again does nothing.
func (l *Listener) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	if l.timer != nil {
		l.timer.Cancel()
	}
	if req := l.req; req != nil {
		l.req = nil
		req.DeferCallback()
		req.Error(opError("accept", l.network, l.addr, nil, errClosed))
	}
	l.reg.drop()
	err := closeAndUnlink(l.reg.fd, l.unlink)
	return opError("close", l.network, l.addr, nil, err)
}

// AcceptSend accepts the next connection on l once the loop reports the
// listener readable; it never accepts inside the call, so the callback
// always runs from the listener's handler. When that callback starts the
// next AcceptSend, the handler accepts again as soon as it returns, up to
// acceptChain connections per readiness report: a burst of connections is
// not taken one loop iteration at a time. ECONNABORTED (the client gave
// up before we got to it) is retried; EMFILE and ENFILE (out of
// descriptors) and ENOBUFS or ENOMEM make the listener back off on a timer,
// so a process out of descriptors does not spin. Accepted sockets are
// non-blocking and close-on-exec (accept4); TCP ones get TCP_NODELAY,
// unix ones the sizes of [ListenBuffers] (TCP ones inherit them).
func AcceptSend(ev *tevent.Context, l *Listener) *tevent.Req[*Stream] {
	req := tevent.NewReq[*Stream](ev)
	var err error
	switch {
	case l.closed:
		err = errClosed
	case l.req != nil:
		err = ErrBusy
	default:
		err = l.reg.use(ev, l.timer != nil && l.timer.Pending())
	}
	if req.Error(opError("accept", l.network, l.addr, nil, err)) {
		return req.Post()
	}
	l.req = req
	req.SetCleanupFn(func(st tevent.State) { l.cleanup(req, st) })
	if l.timer == nil || !l.timer.Pending() { // backing off: the timer retries
		if err := l.reg.set(tevent.FDRead); err != nil {
			l.finish(nil, err)
		}
	}
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// AcceptRecv returns the accepted stream or the error: ErrBusy,
// net.ErrClosed, or the errno of accept4 wrapped in an *OpError.
func AcceptRecv(req *tevent.Req[*Stream]) (*Stream, error) { return req.Recv() }

// acceptChain is how many connections the listener accepts per readiness
// report when each accept's callback starts the next.
const acceptChain = 16

func (l *Listener) onFD(*tevent.FD, tevent.Flags) {
	l.reg.inHandler = true
	for range acceptChain {
		if l.req == nil || l.closed || !l.acceptStep() {
			break
		}
	}
	l.reg.inHandler = false
	if !l.closed {
		if err := l.reg.apply(); err != nil && l.req != nil {
			l.finish(nil, err)
		}
	}
}

// acceptStep accepts one connection if one is waiting. It reports whether
// it did (and finished the request with it).
func (l *Listener) acceptStep() bool {
	for {
		fd, sa, err := sysAccept(l.reg.fd)
		switch {
		case err == nil:
			l.backoff = 0
			if l.network == "tcp" {
				_ = sys.SetNoDelay(fd) // an optimisation only
			} else if err := l.bufs.set(fd); err != nil {
				// Linux gives an accepted unix stream the default sizes,
				// not the listener's, as TCP would.
				closeFd(fd)
				l.finish(nil, err)
				return false
			}
			s := newStream(l.reg.ev, fd, l.network)
			s.remoteSA = sa
			l.finish(s, nil)
			return true
		case sys.Interrupted(err), err == unix.ECONNABORTED:
			continue
		case sys.WouldBlock(err):
			if err := l.reg.set(tevent.FDRead); err != nil {
				l.finish(nil, err)
			}
			return false
		case err == unix.EMFILE, err == unix.ENFILE, err == unix.ENOBUFS, err == unix.ENOMEM:
			l.backOff()
			return false
		default:
			l.finish(nil, sysErr(sys.AcceptCall, err))
			return false
		}
	}
}

// backOff stops watching the listener and retries the accept later.
func (l *Listener) backOff() {
	if l.backoff == 0 {
		l.backoff = acceptBackoffMin
	} else {
		l.backoff = min(2*l.backoff, acceptBackoffMax)
	}
	l.unwatch()
	at := l.reg.ev.Now().Add(l.backoff)
	if l.timer == nil {
		l.timer = l.reg.ev.AddTimer(at, l.retry)
	} else {
		l.timer.Reset(at)
	}
}

// unwatch drops the listener's interest in readability. Lowering it to
// nothing makes no epoll_ctl today (fdReg removes the event from an
// immediate), but should it fail, the event is removed outright rather
// than left reporting a listener nobody accepts on, for ever; the next
// AcceptSend adds it back.
func (l *Listener) unwatch() {
	if err := l.reg.set(0); err != nil {
		l.reg.drop()
	}
}

func (l *Listener) retry(*tevent.Timer, time.Time) {
	if l.req != nil && !l.closed {
		l.acceptStep()
	}
}

func (l *Listener) finish(s *Stream, err error) {
	req := l.req
	l.req = nil
	l.unwatch()
	if req.Error(opError("accept", l.network, l.addr, nil, err)) {
		return
	}
	req.Done(s)
}

// cleanup forgets an accept that timed out, was cancelled or abandoned; an
// accepted stream nobody received is closed.
func (l *Listener) cleanup(req *tevent.Req[*Stream], st tevent.State) {
	if st == tevent.StateReceived && req.Abandoned() {
		if s, _ := req.Recv(); s != nil {
			_ = s.Close() // accepted but abandoned: nobody else will close it
		}
	}
	if l.req == req && !req.IsInProgress() {
		l.req = nil
		if l.timer != nil {
			l.timer.Cancel()
		}
		if !l.closed {
			l.unwatch()
		}
	}
}
