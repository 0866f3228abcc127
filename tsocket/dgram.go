package tsocket

import (
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// Dgram is a datagram socket, UDP or unix (tdgram_context with the bsd
// backend). At most one recvfrom and one sendto are in flight at a time; a
// second fails with [ErrBusy]. A Dgram with nothing in flight holds no
// event in the loop. It belongs to the goroutine running its context's
// loop and owns its descriptor; Close releases it.
type Dgram struct {
	reg     fdReg
	network string // "udp" or "unixgram"
	closed  bool

	local, remote Address
	unlink        string // unix socket path this socket created by binding

	recvReq *tevent.Req[Datagram]
	buf     []byte // receive buffer, reused

	sendReq *tevent.Req[int]
	sendBuf []byte
	sendTo  unix.Sockaddr

	recvCleanupFn func(tevent.State)
	sendCleanupFn func(tevent.State)
}

// Datagram is what RecvFromSend's request yields: the payload and who sent
// it.
type Datagram struct {
	Data []byte
	From Address
}

// maxUDP is the largest UDP payload; unix datagrams may be larger and are
// sized with sys.PendingBytes where the system can tell (not FreeBSD).
const maxUDP = 65536

// UDPSocket creates a UDP socket (tdgram_inet_udp_socket), bound to local
// if not nil and connected to remote if not nil; at least one must be
// given, and both must be of one family.
func UDPSocket(ev *tevent.Context, local, remote Address) (*Dgram, error) {
	if (local != nil && local.domain() == unix.AF_UNIX) || (remote != nil && remote.domain() == unix.AF_UNIX) {
		return nil, opError("socket", "udp", local, remote, &AddressError{Func: "UDPSocket", Input: "unix", Reason: "not an internet address"})
	}
	return newDgram(ev, "udp", local, remote)
}

// UnixDgramSocket creates a unix datagram socket (tdgram_unix_socket),
// bound to local if not nil and connected to remote if not nil. The socket
// file of local is left in place by Close.
func UnixDgramSocket(ev *tevent.Context, local, remote Address) (*Dgram, error) {
	if (local != nil && local.domain() != unix.AF_UNIX) || (remote != nil && remote.domain() != unix.AF_UNIX) {
		return nil, opError("socket", "unixgram", local, remote, &AddressError{Func: "UnixDgramSocket", Input: "ip", Reason: "not a unix address"})
	}
	if local == nil && remote == nil {
		fds, err := sys.Socket(unix.AF_UNIX, unix.SOCK_DGRAM, 0)
		if err != nil {
			return nil, opError("socket", "unixgram", nil, nil, sysErr("socket", err))
		}
		return wrapDgram(ev, fds, "unixgram"), nil
	}
	return newDgram(ev, "unixgram", local, remote)
}

func newDgram(ev *tevent.Context, network string, local, remote Address) (*Dgram, error) {
	domain, err := sameFamily(local, remote)
	if err != nil {
		return nil, opError("socket", network, local, remote, err)
	}
	fd, err := newSocket(domain, unix.SOCK_DGRAM)
	if err != nil {
		return nil, opError("socket", network, local, remote, err)
	}
	if local != nil {
		if err := bindTo(fd, local); err != nil {
			closeFd(fd)
			return nil, opError("bind", network, local, remote, err)
		}
	}
	if remote != nil {
		sa, err := remote.sockaddr()
		if err == nil {
			err = sys.Connect(fd, sa)
		}
		if err != nil {
			closeFd(fd)
			return nil, opError("connect", network, local, remote, sysErr("connect", err))
		}
	}
	d := wrapDgram(ev, fd, network)
	d.remote = remote
	if ua, ok := local.(*UnixAddr); ok && ua.path != "" && ua.path[0] != '@' {
		d.unlink = ua.path // bound here: Close removes it, as Listener does
	}
	return d, nil
}

func wrapDgram(ev *tevent.Context, fd int, network string) *Dgram {
	d := &Dgram{network: network}
	d.reg.init(ev, fd, d.onFD)
	d.recvCleanupFn = d.recvCleanup
	d.sendCleanupFn = d.sendCleanup
	return d
}

func (d *Dgram) opErr(op string, err error) error {
	return opError(op, d.network, d.LocalAddress(), d.RemoteAddress(), err)
}

func (d *Dgram) wants() tevent.Flags {
	var f tevent.Flags
	if d.recvReq != nil {
		f |= tevent.FDRead
	}
	if d.sendReq != nil {
		f |= tevent.FDWrite
	}
	return f
}

func (d *Dgram) onFD(_ *tevent.FD, flags tevent.Flags) {
	d.reg.inHandler = true
	if flags&tevent.FDWrite != 0 && d.sendReq != nil {
		d.sendStep()
	}
	if flags&tevent.FDRead != 0 && d.recvReq != nil && !d.closed {
		d.recvStep()
	}
	d.reg.inHandler = false
	if d.closed {
		return
	}
	if err := d.reg.apply(); err != nil {
		d.failAll(err, false)
	}
}

func (d *Dgram) check(ev *tevent.Context, op string, busy bool) error {
	switch {
	case d.closed:
		return d.opErr(op, errClosed)
	case busy:
		return d.opErr(op, ErrBusy)
	}
	if err := d.reg.use(ev, d.recvReq != nil || d.sendReq != nil); err != nil {
		return d.opErr(op, err)
	}
	return nil
}

// RecvFromSend receives the next datagram on d (tdgram_recvfrom_send);
// zero-length datagrams count. The receive is tried at once.
func RecvFromSend(ev *tevent.Context, d *Dgram) *tevent.Req[Datagram] {
	req := tevent.NewReq[Datagram](ev)
	if req.Error(d.check(ev, "recvfrom", d.recvReq != nil)) {
		return req.Post()
	}
	d.recvReq = req
	req.SetCleanupFn(d.recvCleanupFn)
	d.recvStep()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// RecvFromRecv returns the datagram (a new slice, never nil, owned by the
// caller) and its sender, or the error: ErrBusy, net.ErrClosed, or a
// wrapped errno (ECONNREFUSED on a connected socket whose peer is gone).
func RecvFromRecv(req *tevent.Req[Datagram]) ([]byte, Address, error) {
	dg, err := req.Recv()
	if err != nil {
		return nil, nil, err
	}
	return dg.Data, dg.From, nil
}

func (d *Dgram) recvStep() {
	size := maxUDP
	if d.network == "unixgram" {
		if n, err := sys.PendingBytes(d.reg.fd); err == nil && n > size {
			size = n
		}
	}
	if len(d.buf) < size {
		d.buf = make([]byte, size)
	}
	var n int
	var from unix.Sockaddr
	var err error
	for {
		n, from, err = sys.Recvfrom(d.reg.fd, d.buf)
		if !sys.Interrupted(err) {
			break
		}
	}
	switch {
	case sys.WouldBlock(err):
		if err := d.reg.set(d.wants()); err != nil {
			d.finishRecv(Datagram{}, d.opErr("recvfrom", err))
		}
		return
	case err != nil:
		d.finishRecv(Datagram{}, d.opErr("recvfrom", sysErr("recvfrom", err)))
		return
	}
	data := make([]byte, n)
	copy(data, d.buf[:n])
	src := fromSockaddr(from)
	if src == nil && d.network == "unixgram" {
		src = &UnixAddr{}
	}
	d.finishRecv(Datagram{Data: data, From: src}, nil)
}

// finishRecv ends the recvfrom in flight with dg or err. d forgets it and
// lowers its interest first; an epoll_ctl that fails then fails the
// request, unless it had failed already.
func (d *Dgram) finishRecv(dg Datagram, err error) {
	req := d.recvReq
	d.recvReq = nil
	if !d.closed {
		if e := d.reg.set(d.wants()); e != nil && err == nil {
			err = d.opErr("recvfrom", e)
		}
	}
	if !req.Error(err) {
		req.Done(dg)
	}
}

// recvCleanup forgets a recvfrom that ended without us (timed out,
// cancelled, abandoned). Should lowering the interest fail, the sendto
// still in flight fails with the error, as Stream.cleanup does.
func (d *Dgram) recvCleanup(tevent.State) {
	if d.recvReq != nil && !d.recvReq.IsInProgress() {
		d.recvReq = nil
		d.lower()
	}
}

// SendToSend sends buf as one datagram to dst (tdgram_sendto_send), or to
// the connected peer when dst is nil. The send is tried at once. buf
// belongs to the caller and must not change until the request finishes.
func SendToSend(ev *tevent.Context, d *Dgram, buf []byte, dst Address) *tevent.Req[int] {
	req := tevent.NewReq[int](ev)
	if req.Error(d.check(ev, "sendto", d.sendReq != nil)) {
		return req.Post()
	}
	var sa unix.Sockaddr
	if dst != nil {
		var err error
		if sa, err = dst.sockaddr(); req.Error(opError("sendto", d.network, d.LocalAddress(), dst, err)) {
			return req.Post()
		}
	}
	d.sendReq, d.sendBuf, d.sendTo = req, buf, sa
	req.SetCleanupFn(d.sendCleanupFn)
	d.sendStep()
	if !req.IsInProgress() {
		return req.Post()
	}
	return req
}

// SendToRecv returns the number of bytes sent (the whole datagram) or the
// error: ErrBusy, net.ErrClosed, or a wrapped errno (EMSGSIZE, ...).
func SendToRecv(req *tevent.Req[int]) (int, error) { return req.Recv() }

func (d *Dgram) sendStep() {
	var err error
	for {
		err = sys.Sendto(d.reg.fd, d.sendBuf, d.sendTo)
		if !sys.Interrupted(err) {
			break
		}
	}
	switch {
	case sys.WouldBlock(err):
		if err := d.reg.set(d.wants()); err != nil {
			d.finishSend(d.opErr("sendto", err))
		}
		return
	case err != nil:
		var dst Address
		if d.sendTo != nil {
			dst = fromSockaddr(d.sendTo)
		} else {
			dst = d.RemoteAddress()
		}
		d.finishSend(opError("sendto", d.network, d.LocalAddress(), dst, sysErr("sendto", err)))
		return
	}
	d.finishSend(nil)
}

// finishSend ends the sendto in flight, as finishRecv does the recvfrom.
func (d *Dgram) finishSend(err error) {
	req, n := d.sendReq, len(d.sendBuf)
	d.sendReq, d.sendBuf, d.sendTo = nil, nil, nil
	if !d.closed {
		if e := d.reg.set(d.wants()); e != nil && err == nil {
			err = d.opErr("sendto", e)
		}
	}
	if !req.Error(err) {
		req.Done(n)
	}
}

// sendCleanup forgets a sendto that ended without us, as recvCleanup
// does a recvfrom.
func (d *Dgram) sendCleanup(tevent.State) {
	if d.sendReq != nil && !d.sendReq.IsInProgress() {
		d.sendReq, d.sendBuf, d.sendTo = nil, nil, nil
		d.lower()
	}
}

// lower brings the interest down to what is still in flight after a
// request ended without us; if that fails (an epoll_ctl MOD), what is
// still in flight fails with the error, its callback on a later iteration
// since this runs inside another request's ending.
func (d *Dgram) lower() {
	if d.closed {
		return
	}
	if err := d.reg.set(d.wants()); err != nil {
		d.failAll(err, true)
	}
}

// failAll fails the requests in flight with cause, each in an *OpError
// of its own Op; with deferred callbacks when called from Close, so no
// callback runs inside Close.
func (d *Dgram) failAll(cause error, deferCB bool) {
	if req := d.recvReq; req != nil {
		d.recvReq = nil
		if deferCB {
			req.DeferCallback()
		}
		req.Error(d.opErr("recvfrom", cause))
	}
	if req := d.sendReq; req != nil {
		d.sendReq, d.sendBuf, d.sendTo = nil, nil, nil
		if deferCB {
			req.DeferCallback()
		}
		req.Error(d.opErr("sendto", cause))
	}
}

// LocalAddress returns the address d is bound to, or nil.
func (d *Dgram) LocalAddress() Address {
	if d.local == nil && !d.closed {
		if sa, err := sys.Getsockname(d.reg.fd); err == nil {
			d.local = fromSockaddr(sa)
		}
	}
	return d.local
}

// RemoteAddress returns the address d is connected to, or nil.
func (d *Dgram) RemoteAddress() Address { return d.remote }

// Fd returns the descriptor, which d still owns.
func (d *Dgram) Fd() int { return d.reg.fd }

// Close closes d: requests in flight fail with net.ErrClosed (their
// callbacks run on a later iteration), the fd event is removed and the
// descriptor closed; a unix socket file d created by binding is removed
// (failing to remove it is an error, finding it gone is not). Closing
// again does nothing.
func (d *Dgram) Close() error {
	if d.closed {
		return nil
	}
	d.LocalAddress()
	d.closed = true
	d.failAll(errClosed, true)
	d.reg.drop()
	return d.opErr("close", closeAndUnlink(d.reg.fd, d.unlink))
}

func (d *Dgram) disconnect() error {
	if d.closed {
		return d.opErr("disconnect", errClosed)
	}
	if d.recvReq != nil || d.sendReq != nil {
		return d.opErr("disconnect", ErrBusy)
	}
	return d.Close()
}
