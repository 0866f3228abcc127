package servers

import (
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// The gotevent server on the callback-mask API (tevent.MaskEvent): one
// MaskFunc per connection reads into the loop's one buffer with e.Read and
// writes back with e.Write, keeping only what the socket did not take. It
// shows what the loop itself costs, without the request layer. Accepting
// is a plain AddFD on the listener's descriptor calling accept4.

func init() {
	register("gotevent-mask", func(cfg Config) (Server, error) {
		return startTeventGroup(cfg, func(ev *tevent.Context, l *tsocket.Listener) (loopServer, error) {
			ml := &maskLoop{ev: ev, l: l, cfg: cfg, buf: make([]byte, cfg.Buf), conns: make(map[*maskConn]struct{})}
			ml.serveFn = ml.serve
			fde, err := ev.AddFD(l.Fd(), tevent.FDRead, ml.onAccept)
			if err != nil {
				return nil, err
			}
			ml.lfde = fde
			return ml, nil
		})
	})
}

type maskLoop struct {
	ev      *tevent.Context
	l       *tsocket.Listener
	lfde    *tevent.FD
	cfg     Config
	buf     []byte // the loop's read buffer, shared by its connections
	conns   map[*maskConn]struct{}
	serveFn tevent.MaskFunc
}

type maskConn struct {
	e    *tevent.MaskEvent
	out  []byte // what the socket did not take yet
	sink Counter
}

// acceptBatch bounds how many connections one readiness report accepts, so
// a flood of connects does not starve established connections.
const acceptBatch = 64

func (ml *maskLoop) onAccept(*tevent.FD, tevent.Flags) {
	for range acceptBatch {
		fd, _, err := unix.Accept4(ml.l.Fd(), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch err {
		case nil:
		case unix.EINTR, unix.ECONNABORTED:
			continue
		default: // EAGAIN, or out of descriptors: the next report retries
			return
		}
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		c := &maskConn{}
		c.e = ml.ev.BuildFDEvent(fd, tevent.FDRead, ml.serveFn, c)
		if err := ml.ev.ScheduleEvent(c.e); err != nil {
			unix.Close(fd)
			continue
		}
		ml.conns[c] = struct{}{}
	}
}

func (ml *maskLoop) serve(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
	c := e.Closure().(*maskConn)
	if len(c.out) > 0 {
		n, need, err := e.Write(c.out)
		if err == unix.EAGAIN {
			return need
		}
		if err != nil {
			return ml.drop(c)
		}
		if c.out = c.out[n:]; len(c.out) > 0 {
			return tevent.FDWrite
		}
		c.out = nil
	}
	for {
		n, need, err := e.Read(ml.buf)
		if err == unix.EAGAIN {
			return need
		}
		if err != nil {
			return ml.drop(c)
		}
		p := ml.buf[:n]
		if ml.cfg.Mode == Sink {
			p = Acks(c.sink.Add(n))
		}
		if len(p) > 0 {
			w, _, err := e.Write(p)
			if err != nil && err != unix.EAGAIN {
				return ml.drop(c)
			}
			if w < len(p) {
				c.out = append([]byte(nil), p[w:]...)
				return tevent.FDWrite
			}
		}
		if n < len(ml.buf) {
			// A short read emptied the socket: wait instead of making a
			// read that can only say EAGAIN.
			return tevent.FDRead
		}
	}
}

func (ml *maskLoop) drop(c *maskConn) tevent.Flags {
	delete(ml.conns, c)
	c.e.Close()
	return 0
}

func (ml *maskLoop) closeAll() {
	ml.lfde.Remove()
	ml.l.Close()
	for c := range ml.conns {
		ml.drop(c)
	}
}
