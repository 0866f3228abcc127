package imap

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// hibernation is the server's side of the hibernation process, as
// Dovecot's imap process is to imap-hibernate: it hands over connections
// that idle in IDLE (descriptor, session.State and unread input), keeps
// each one's State and a watch on its mailbox, tells the process of new
// mail (session.Updates) or wakes the connection when Updates cannot say
// it, and takes connections back. The server forgets the stream itself:
// it has been detached and its descriptor closed here.
type hibernation struct {
	srv      *Server
	ctl      *ctlConn
	nextID   uint32
	sleepers map[uint32]*sleeper
}

// sleeper is one hibernated connection, as the server remembers it.
type sleeper struct {
	h      *hibernation
	id     uint32
	st     *session.State // kept up to date with what was sent
	seq    uint32         // updates sent
	cancel func()         // the mailbox watch
	waking bool
}

// canHibernate reports whether the connection may be handed to the
// hibernation process once it has idled HibernateAfter: a TLS session's
// state cannot leave the process, so TLS connections stay.
func (c *conn) canHibernate() bool {
	cfg := &c.srv.cfg
	return cfg.HibernateAfter > 0 && cfg.StartHibernator != nil && !c.tls && !c.srv.stop
}

// hibernate hands the idling connection over: the line read waiting for
// DONE is abandoned (what it read stays in the Reader), the session gives
// its State, the Reader's buffered bytes are taken out with a ReadFullSend
// that completes from the buffer, and the detached descriptor goes with
// them. Bytes still in the socket go with the descriptor; so nothing the
// client sent is lost, DONE and a command in one packet included.
func (c *conn) hibernate() {
	read, ok := c.reading.(*tevent.Req[[]byte])
	if c.dead || c.closing || !c.idling || !c.canHibernate() || c.w.Buffered() > 0 || len(c.pending) > 0 ||
		!ok || !read.IsInProgress() {
		return // not now: a line has come, or output waits for the client
	}
	h, err := c.srv.hibernation()
	if err != nil {
		c.logf("hibernation: %v", err)
		return
	}
	read.Abandon()
	c.reading = nil
	st, err := c.sess.Hibernate()
	if err != nil {
		c.logf("hibernate: %v", err)
		c.readLine()
		return
	}
	rest := make([]byte, c.r.Buffered())
	req := tsocket.ReadFullSend(c.srv.ev, c.r, rest)
	req.SetCallback(func(req *tevent.Req[int]) {
		if _, err := tsocket.ReadFullRecv(req); err != nil {
			c.logf("hibernate: %v", err)
			c.drop()
			return
		}
		c.stopTick()
		idle := time.Duration(c.srv.now() - c.active)
		fd, err := c.s.Detach()
		if err != nil {
			c.logf("hibernate: %v", err)
			st.Input = rest
			c.srv.resumeOn(c, st, nil)
			return
		}
		c.logf("hibernating after %v in IDLE", c.srv.cfg.HibernateAfter)
		c.dead = true
		delete(c.srv.conns, c.s)
		h.put(st, rest, fd, idle)
	})
}

// hibernation returns the hibernation process, starting it if needed.
func (srv *Server) hibernation() (*hibernation, error) {
	if srv.hib != nil {
		return srv.hib, nil
	}
	s, err := srv.cfg.StartHibernator(srv.ev)
	if err != nil {
		return nil, err
	}
	h := &hibernation{srv: srv, sleepers: map[uint32]*sleeper{}}
	h.ctl = newCtlConn(srv.ev, s, h.message, h.ended)
	srv.hib = h
	return h, nil
}

// put sends a connection over.
func (h *hibernation) put(st *session.State, input []byte, fd int, idle time.Duration) {
	h.nextID++
	sl := &sleeper{h: h, id: h.nextID, st: st}
	st.Input = nil
	state, err := st.MarshalBinary()
	if err == nil {
		sl.cancel, err = session.Watch(&h.srv.cfg.Session, st, sl)
	}
	if err != nil {
		h.srv.logf("imap: hibernate: %v", err)
		st.Input = input
		h.srv.resumeFD(fd, st, nil, idle)
		return
	}
	h.sleepers[sl.id] = sl
	m := &ctlMsg{typ: msgHibernate, id: sl.id, idleMs: millis(idle), a: state, b: input}
	h.ctl.send(m, fd, func(err error) {
		if err == nil {
			unix.Close(fd) // the hibernation process has its own now
			h.srv.mem.poke()
			return
		}
		// The process is gone: serve the connection here again.
		h.forget(sl)
		st.Input = input
		h.srv.resumeFD(fd, st, nil, idle)
	})
}

func millis(d time.Duration) uint32 {
	return uint32(min(max(d.Milliseconds(), 0), 1<<32-1))
}

// MailboxChanged is mail.Watcher for a hibernated connection: new
// messages are sent as untagged responses, anything else wakes it.
func (sl *sleeper) MailboxChanged(*mail.Mailbox) {
	if sl.waking {
		return
	}
	out, ok, err := session.Updates(&sl.h.srv.cfg.Session, sl.st)
	switch {
	case err != nil || !ok:
		sl.waking = true
		sl.h.ctl.send(&ctlMsg{typ: msgWake, id: sl.id}, -1, nil)
	case len(out) > 0:
		sl.seq++
		sl.h.ctl.send(&ctlMsg{typ: msgUpdate, id: sl.id, seq: sl.seq, a: out}, -1, nil)
	}
}

// message handles what the hibernation process says.
func (h *hibernation) message(m *ctlMsg) {
	sl := h.sleepers[m.id]
	switch {
	case sl == nil:
		h.srv.logf("imap: hibernation: message %q for unknown connection %d", m.typ, m.id)
		if m.fd >= 0 {
			unix.Close(m.fd)
		}
	case m.typ == msgGone:
		h.forget(sl)
	case m.typ == msgResume:
		h.forget(sl)
		st := sl.st
		st.Tag, st.Input = string(m.a), m.b
		var prefix []byte
		if m.seq != sl.seq {
			// Updates crossed the connection on its way back: what the
			// client was told is in st, so say it again, whole.
			prefix = fmt.Appendf(nil, "* %d EXISTS\r\n* %d RECENT\r\n", len(st.UIDs), len(st.Recent))
		}
		h.srv.resumeFD(m.fd, st, prefix, time.Duration(m.idleMs)*time.Millisecond)
	default:
		h.srv.logf("imap: hibernation: unexpected message %q", m.typ)
		if m.fd >= 0 {
			unix.Close(m.fd)
		}
	}
}

func (h *hibernation) forget(sl *sleeper) {
	if h.sleepers[sl.id] == sl {
		delete(h.sleepers, sl.id)
		sl.cancel()
	}
}

// ended is the control socket's end: the process exited (after a
// shutdown, or crashed) and took its connections with it.
func (h *hibernation) ended(err error) {
	if len(h.sleepers) > 0 || !h.srv.stop {
		h.srv.logf("imap: hibernation process gone (%v) with %d connections", err, len(h.sleepers))
	}
	for _, sl := range h.sleepers {
		h.forget(sl)
	}
	if h.srv.hib == h {
		h.srv.hib = nil
	}
}

// shutdown asks the process to say BYE to its connections and exit; the
// control socket's EOF then ends the hibernation.
func (h *hibernation) shutdown() {
	h.ctl.send(&ctlMsg{typ: msgShutdown}, -1, nil)
}

// close closes the control socket: the process closes its connections
// and exits.
func (h *hibernation) close() {
	h.ctl.close()
	h.ended(net.ErrClosed)
}

// Hibernated returns how many connections are in the hibernation process.
func (srv *Server) Hibernated() int {
	if srv.hib == nil {
		return 0
	}
	return len(srv.hib.sleepers)
}

// resumeFD takes a connection back from the hibernation process (or from
// a hand-over that failed): a stream on fd, a session rebuilt from st,
// st.Input read before the socket, prefix written before anything.
func (srv *Server) resumeFD(fd int, st *session.State, prefix []byte, idle time.Duration) {
	s, err := tsocket.ExistingSocket(srv.ev, fd)
	if err != nil {
		srv.logf("imap: resume: %v", err)
		unix.Close(fd)
		return
	}
	c := &conn{srv: srv, active: srv.now() - int64(idle)}
	c.attach(s)
	c.logf("resumed from hibernation")
	srv.resumeOn(c, st, prefix)
}

// resumeOn rebuilds c's session from st: on a stream taken back, or on
// the connection's own after a hand-over failed.
func (srv *Server) resumeOn(c *conn, st *session.State, prefix []byte) {
	c.rearm()
	if len(prefix) > 0 {
		c.Write(prefix)
	}
	c.pending = st.Input
	sess, next, err := session.Resume(&srv.cfg.Session, c, st)
	if err != nil {
		c.logf("resume: %v", err)
		c.sess = session.New(&srv.cfg.Session, c)
		c.run(c.sess.Bye("Mailbox changed while hibernated; please reconnect"))
		return
	}
	c.sess = sess
	c.idling = false // setIdle starts the keep-alive and hibernation clocks afresh
	if srv.stop {
		c.run(c.sess.Bye("Server shutting down"))
		return
	}
	c.run(next)
}

// ExecHibernator returns a Config.StartHibernator that runs this program
// (os.Executable) as "imap-hibernate" with cfg's timings, its control
// socket one end of a socketpair given to the child as descriptor 3. A
// goroutine waits for the child, which exits once its control socket
// closes, and tells logf (which must be safe from any goroutine) if it
// failed.
func ExecHibernator(cfg Config, logf func(format string, args ...any)) func(ev *tevent.Context) (*tsocket.Stream, error) {
	return func(ev *tevent.Context) (*tsocket.Stream, error) {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		ours, theirs, err := tsocket.Socketpair(ev)
		if err != nil {
			return nil, err
		}
		fd, err := theirs.Detach() // the child's end, a bare descriptor
		if err != nil {
			ours.Close()
			theirs.Close()
			return nil, err
		}
		child := os.NewFile(uintptr(fd), "imap-hibernate control")
		cmd := exec.Command(exe, HibernatorArgs(cfg)...)
		cmd.ExtraFiles = []*os.File{child} // descriptor 3
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		err = cmd.Start()
		child.Close()
		if err != nil {
			ours.Close()
			return nil, err
		}
		go func() {
			if err := cmd.Wait(); err != nil && logf != nil {
				logf("imap: hibernation process: %v", err)
			}
		}()
		return ours, nil
	}
}

// HibernatorArgs are the arguments ExecHibernator starts the process
// with: the command and cfg's timings.
func HibernatorArgs(cfg Config) []string {
	hc := HibernatorConfigOf(cfg)
	return []string{"imap-hibernate", "--control-fd", "3", "--keepalive", hc.KeepAlive.String(),
		"--idle-timeout", hc.IdleTimeout.String(), "--bye-timeout", hc.ByeTimeout.String()}
}

// HibernatorConfigOf is the hibernation process's configuration for a
// server's: the same timings, defaults filled in.
func HibernatorConfigOf(cfg Config) HibernatorConfig {
	cfg.fill()
	return HibernatorConfig{KeepAlive: cfg.KeepAlive, IdleTimeout: cfg.IdleTimeout, ByeTimeout: cfg.ByeTimeout, Logf: cfg.Logf}
}
