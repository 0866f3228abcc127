package resp

import (
	"errors"
	"io"
	"net"
	"strconv"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/demoserver"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Sizes that shape how a connection reads and replies. Below bigBulk and
// zeroCopyReply a copy is cheap next to a read request or an iovec of its
// own: bigBulk is the size of the loop's shared read buffer, so a value
// that one read can bring in takes the small-command path.
const (
	// bigBulk is the length past which a bulk string not yet buffered
	// whole is read straight from the socket into a buffer of its own,
	// its final one, rather than through the read buffer.
	bigBulk = 16 << 10
	// takeApartAt is how much of an incomplete multibulk command may wait
	// in the read buffer: past it, the arguments complete so far are
	// copied out and the buffer holds only the one being read.
	takeApartAt = 64 << 10
	// zeroCopyReply is the length from which a GET reply is written from
	// the stored value itself; a shorter one is copied into the replies.
	zeroCopyReply = 4 << 10
	// flushAt is how many bytes of replies gather before they are handed
	// to the Writer, whose hard limit then sees them.
	flushAt = 64 << 10
	// idleOut is the largest reply buffer a connection keeps once all of
	// it is written.
	idleOut = 4 << 10
	// bulkAhead is how far a large bulk string's buffer may run ahead of
	// the bytes of it received, so that a client that announces a long
	// value and sends none of it makes the server allocate this much, not
	// the length it announced. Past it the buffer doubles as the bytes
	// arrive: it is never more than bulkAhead, or as much again as has
	// arrived, ahead of them. A value up to this size is read in one
	// buffer of its exact size, straight from the socket.
	bulkAhead = 1 << 20
)

// waitKind is what a connection waits for; it runs commands only while it
// waits for nothing, which is what keeps them in order.
type waitKind uint8

const (
	waitNone  waitKind = iota
	waitRead           // a read into the read buffer (demoserver.Reader)
	waitBulk           // a large bulk string read into its own buffer
	waitCall           // a command running on the loop that owns its keys
	waitDrain          // the replies are over the soft limit
)

// conn is one client connection of a Server, on the server's loop.
type conn struct {
	srv  *Server
	s    *tsocket.Stream
	r    demoserver.Reader
	w    *tsocket.Writer
	wait waitKind
	args [][]byte
	part *partial // a command being taken apart, or nil
	// spare is the partial of the last command taken apart, kept with
	// its argument array for the next: the command has run by then, and
	// nothing it gave away (a value, keys carried to another loop) is in
	// the array itself.
	spare *partial

	// out gathers replies; out[:outAt] has been handed to w, which holds
	// it until written, so it is only appended to, and reused once w has
	// written everything.
	out   []byte
	outAt int

	calls int      // calls in flight on other loops
	multi bool     // they are the parts of one DEL or EXISTS,
	res   result   // whose result so far this is
	run   []runCmd // or they are one run of commands, whose bytes after the first are still buffered

	stopping bool // the server shuts down: close once the command in flight is answered
	closing  bool // no more commands: w delivers what it holds, then closes
	closed   bool
	// readNow is set on a TLS stream until its first read: crypto/tls may
	// hold the first request already (see demoserver.Reader.ReadNow).
	readNow bool
	// iov is the vector of a read into a large value's buffer: that one
	// alone, or a guessed read's header, value and rest (guess.go).
	iov   [3][]byte
	guess guess
	// pinned are the stored values that replies handed to w reference
	// (see valuePool): the store may reuse them only once w has written
	// everything.
	pinned [][]byte

	// Bound once, so that a read, a drain or a call allocates no closure.
	readDoneFn  func(error)
	bulkReadFn  func(*tevent.Req[int])
	underSoftFn func(*tevent.Req[struct{}])
	drainedFn   func(*tevent.Req[struct{}])
	callDoneFn  func(*tevent.Req[[]result])
	closeDoneFn func(*tevent.Req[struct{}])
	guessVecFn  func() [][]byte        // bound on the first guess
	guessReadFn func(*tevent.Req[int]) // bound on the first guess
}

// partial is a multibulk command being taken apart: its arguments are
// copies, or large values read into their own buffers, so they belong to
// the command and may be stored as they are.
type partial struct {
	args [][]byte
	left int    // arguments still to come
	bulk []byte // the buffer of the large one being read, for its bytes and CRLF
	got  int    // how much of bulk is filled
	need int64  // the length of the bulk string with its CRLF
}

func newConn(srv *Server, s *tsocket.Stream) *conn {
	c := &conn{srv: srv, s: s}
	c.r = demoserver.NewReader(MaxBuffer, srv.shared)
	c.w = tsocket.NewWriter(srv.ev, s, tsocket.WriterLimits{Soft: srv.cfg.OutputSoft, Hard: srv.cfg.OutputHard})
	c.readDoneFn, c.bulkReadFn, c.underSoftFn, c.drainedFn = c.readDone, c.bulkRead, c.underSoft, c.drained
	c.callDoneFn, c.closeDoneFn = c.callDone, c.closeDone
	return c
}

// open reports whether the connection still runs commands.
func (c *conn) open() bool { return !c.closing && !c.closed }

// process runs the commands buffered, in order, one at a time: before
// each, it checks the replies against the soft limit and pauses there.
// It stops at a command that must wait (a read, a call to another loop),
// and reads once the buffer holds no complete command, unless the replies
// are over the soft limit: then it pauses first.
func (c *conn) process() {
	c.recycle()
	buf := c.r.Buffered()
	pos := 0
	for c.wait == waitNone && c.open() {
		if c.overSoft() {
			c.pause()
			break
		}
		n, more := c.step(buf[pos:])
		pos += n
		if !more {
			break
		}
		if len(c.out)-c.outAt >= flushAt {
			c.flush()
		}
	}
	clear(c.args[:cap(c.args)]) // no reference into the read buffer stays
	c.r.Consume(pos)
	c.flush()
	switch {
	case c.wait != waitNone || !c.open():
	case c.overSoft():
		c.pause() // nothing is read while the replies are over the limit
	default:
		c.read()
	}
}

// step runs the command at the front of b, or takes it apart, and
// returns the bytes it used and whether to go on with the next.
func (c *conn) step(b []byte) (int, bool) {
	if c.part != nil {
		return c.stepPart(b)
	}
	args, n, err := c.srv.parser.Parse(b, c.args[:0])
	switch {
	case err != nil:
		c.protocolError(err)
		return 0, false
	case n == 0:
		return c.takeApart(b)
	case args != nil:
		c.args = args[:0]
		c.exec(args, false, b[n:])
	}
	return n, true
}

// takeApart starts taking apart the incomplete command at the front of b
// if waiting for it whole would cost: its next argument is large, or much
// of it is buffered already.
func (c *conn) takeApart(b []byte) (int, bool) {
	p, ok, err := c.srv.parser.Start(b, c.args[:0])
	if err != nil {
		c.protocolError(err)
		return 0, false
	}
	if !ok || p.Next <= bigBulk && len(b) < takeApartAt {
		return 0, false // wait in the read buffer
	}
	c.learn(p)
	c.beginPart()
	return c.advance(b, p)
}

// beginPart starts a command taken apart, in the spare partial if any.
func (c *conn) beginPart() {
	if c.part = c.spare; c.part == nil {
		c.part = &partial{}
	}
	c.spare = nil
}

// stepPart goes on with the command taken apart.
func (c *conn) stepPart(b []byte) (int, bool) {
	if c.part.left == 0 {
		p := c.part
		c.part = nil
		c.exec(p.args, true, nil)
		if c.wait == waitNone && len(p.args) <= 8 {
			clear(p.args)
			*p = partial{args: p.args[:0]}
			c.spare = p
		}
		return 0, true
	}
	p, err := c.srv.parser.More(b, c.part.left, c.args[:0])
	if err != nil {
		c.protocolError(err)
		return 0, false
	}
	return c.advance(b, p)
}

// advance takes what p parsed of b into the command taken apart, and
// starts reading its next argument straight into place if it is large.
func (c *conn) advance(b []byte, p Partial) (int, bool) {
	for _, a := range p.Args {
		c.part.args = append(c.part.args, ownedCopy(a))
	}
	c.part.left = p.Left
	used := p.Used
	switch {
	case p.Left == 0:
		return used, true // run by the next step
	case p.Next > bigBulk:
		used += p.NextHeader
		used += c.startBulk(b[used:], p.Next)
		return used, c.wait == waitNone && c.open()
	}
	return used, false
}

// startBulk reads a bulk string of n bytes into a buffer of its own: what
// b holds of it, then the rest straight from the socket. The buffer is
// the value's final one, of its exact size, unless the value is more than
// bulkAhead longer than what has arrived of it; one the store let go of
// is reused when it fits. It returns the bytes of b it took.
func (c *conn) startBulk(b []byte, n int64) int {
	p := c.part
	p.need = n + 2 // the value and its CRLF
	buf := c.valueBuf(int(min(p.need, int64(len(b))+bulkAhead)))
	p.bulk, p.got = buf, copy(buf, b)
	if int64(p.got) == p.need {
		c.endBulk()
		return p.got
	}
	c.readBulk()
	return p.got
}

// valueBuf returns a buffer of size bytes for a large value: one the store
// let go of if one fits, else a new one.
func (c *conn) valueBuf(size int) []byte {
	if buf := c.srv.store.pool.get(size); buf != nil {
		return buf
	}
	return make([]byte, size)
}

// readBulk reads the rest of the bulk string's buffer from the socket,
// after growing the buffer if it is full.
func (c *conn) readBulk() {
	p := c.part
	if p.got == len(p.bulk) {
		size := int(min(p.need, max(2*int64(len(p.bulk)), int64(p.got)+bulkAhead)))
		grown := make([]byte, size)
		copy(grown, p.bulk)
		p.bulk = grown
	}
	c.iov[0] = p.bulk[p.got:]
	c.wait = waitBulk
	tsocket.ReadvSend(c.srv.ev, c.s, c.iov[:1]).SetCallback(c.bulkReadFn)
}

func (c *conn) bulkRead(req *tevent.Req[int]) {
	n, err := tsocket.ReadvRecv(req)
	c.wait = waitNone
	c.iov[0] = nil
	switch {
	case !c.open():
	case err != nil:
		c.readFailed(err)
	case int64(c.part.got+n) < c.part.need:
		c.part.got += n
		c.readBulk()
	default:
		c.part.got += n
		if c.endBulk() {
			c.process()
		}
	}
}

// endBulk adds the bulk string read whole, with its CRLF, to the command.
// The value keeps its buffer's capacity, so that the store can reuse the
// buffer once it lets go of the value.
func (c *conn) endBulk() bool {
	p := c.part
	buf := p.bulk[:p.need]
	p.bulk, p.got = nil, 0
	n := len(buf) - 2
	if buf[n] != '\r' || buf[n+1] != '\n' {
		c.protocolError(protoErr("bulk string not followed by CRLF"))
		return false
	}
	p.args = append(p.args, buf[:n])
	p.left--
	return true
}

// exec runs one command. owned says the arguments are the command's own
// (taken apart), so a value is stored without another copy. rest is what
// the buffer holds after the command, or nil. A command on a key another
// loop owns is carried there; the connection waits for it.
func (c *conn) exec(args [][]byte, owned bool, rest []byte) {
	cmd := lookup(args[0])
	o, ok := cmd.keyOp(len(args))
	if !ok {
		var quit bool
		c.out, quit = keyless(cmd, args, c.out)
		if quit {
			c.finish()
		}
		return
	}
	srv := c.srv
	keys := args[1:]
	switch {
	case srv.ks.Loops() == 1:
		c.reply(srv.store.do(o, keys, owned), true)
	case o.multi():
		c.execMulti(o, keys, owned)
	default:
		owner := srv.ks.Owner(keys[0])
		if owner == srv.self {
			c.reply(srv.store.do(o, keys, owned), true)
			return
		}
		if !owned {
			keys = cloneArgs(keys) // the read buffer is reused meanwhile
		}
		c.callRun(owner, runCmd{o: o, keys: keys}, rest)
	}
}

// execMulti runs DEL or EXISTS on several keys: on each loop that owns
// some of them, this one at once and the others by calls that run side by
// side; the reply is the sum.
func (c *conn) execMulti(o op, keys [][]byte, owned bool) {
	srv := c.srv
	owners := make([]int, len(keys))
	for i, k := range keys {
		owners[i] = srv.ks.Owner(k)
	}
	c.res = result{kind: resInt}
	var part [][]byte
	for owner := range srv.ks.Loops() {
		part = part[:0]
		for i, k := range keys {
			if owners[i] == owner {
				part = append(part, k)
			}
		}
		switch {
		case len(part) == 0:
		case owner == srv.self:
			c.res.n += srv.store.do(o, part, owned).n
		default:
			c.multi = true
			c.call(owner, []runCmd{{o: o, keys: cloneArgs(part)}}, -1)
		}
	}
	if c.calls == 0 {
		c.reply(c.res, false)
		c.res = result{}
	}
}

// maxRun is the most commands one call carries to another loop.
const maxRun = 64

// callRun carries first, and the commands after it in rest on keys of the
// same loop, to that loop in one call: a run of a pipeline that runs
// there in order, as it would one by one, for one round trip. The loop
// stops where the replies would pass the soft limit, as the connection
// would; the commands it did not run stay buffered.
func (c *conn) callRun(owner int, first runCmd, rest []byte) {
	run := []runCmd{first}
	var scratch [8][]byte
	for len(run) < maxRun && len(rest) > 0 {
		args, n, err := c.srv.parser.Parse(rest, scratch[:0])
		if err != nil || n == 0 || args == nil {
			break
		}
		o, ok := lookup(args[0]).keyOp(len(args))
		if !ok || o.multi() || c.srv.ks.Owner(args[1]) != owner {
			break
		}
		run = append(run, runCmd{o: o, keys: cloneArgs(args[1:]), n: n})
		rest = rest[n:]
	}
	budget := -1
	if soft := c.srv.cfg.OutputSoft; soft > 0 {
		budget = max(soft-c.w.Buffered()-(len(c.out)-c.outAt), 0)
	}
	c.run = run
	c.call(owner, run, budget)
}

// call runs the commands of run on the loop owner, whose store holds
// their keys, which are the call's own.
func (c *conn) call(owner int, run []runCmd, budget int) {
	st := c.srv.ks.Store(owner)
	req := tevent.CallSend(c.srv.ev, c.srv.ks.loops[owner], func() ([]result, error) {
		return st.doRun(run, budget), nil
	})
	req.SetCallback(c.callDoneFn)
	c.calls++
	c.wait = waitCall
}

func (c *conn) callDone(req *tevent.Req[[]result]) {
	rs, err := tevent.CallRecv(req)
	if err != nil {
		rs = []result{{kind: resErr, msg: "ERR " + err.Error()}}
	}
	c.calls--
	if c.multi {
		switch r := rs[0]; {
		case c.res.kind == resErr: // the first error is the reply
		case r.kind == resInt:
			c.res.n += r.n
		default:
			c.res = r
		}
		if c.calls > 0 {
			return
		}
		rs, c.res, c.multi = []result{c.res}, result{}, false
	} else {
		// The commands of the run after the first are still buffered:
		// those that ran are done with.
		used := 0
		for _, rc := range c.run[1:len(rs)] {
			used += rc.n
		}
		c.r.Consume(used)
		c.run = nil
	}
	c.wait = waitNone
	if !c.open() {
		return
	}
	for _, r := range rs {
		c.reply(r, false)
	}
	if c.stopping {
		c.finish()
		return
	}
	c.process()
}

// reply adds the reply of an op. A long value is handed to the Writer as
// it is stored, between a header and a CRLF in the replies; local says it
// is a value of this loop's store, which must not reuse its buffer until
// the Writer has written it (one of another loop's is shared for good).
func (c *conn) reply(r result, local bool) {
	if r.kind != resBulk || len(r.val) < zeroCopyReply {
		c.out = r.append(c.out)
		return
	}
	if local {
		c.srv.store.pool.pin(r.val)
		c.pinned = append(c.pinned, r.val)
	}
	c.out = append(c.out, '$')
	c.out = strconv.AppendInt(c.out, int64(len(r.val)), 10)
	c.out = append(c.out, '\r', '\n')
	c.write(c.out[c.outAt:], r.val)
	c.outAt = len(c.out)
	c.out = append(c.out, '\r', '\n')
}

// unpin lets the store reuse the values the replies written referenced.
func (c *conn) unpin() {
	for i, v := range c.pinned {
		c.srv.store.pool.unpin(v)
		c.pinned[i] = nil
	}
	c.pinned = c.pinned[:0]
}

// write queues bufs on the Writer. Past the hard limit the client is
// disconnected; a failed write means it is gone.
func (c *conn) write(bufs ...[]byte) {
	err := c.w.Write(bufs...)
	switch {
	case err == nil:
	case errors.Is(err, tsocket.ErrWriterFull):
		c.kill()
	default:
		c.close()
	}
}

// flush hands the replies gathered to the Writer.
func (c *conn) flush() {
	if c.outAt < len(c.out) && !c.closed {
		c.write(c.out[c.outAt:])
		c.outAt = len(c.out)
	}
}

// recycle reuses the reply buffer once the Writer has written all of it,
// and starts a new one rather than grow one mostly handed out; the values
// the replies referenced are free then too.
func (c *conn) recycle() {
	if len(c.pinned) > 0 && c.w.Buffered() == 0 {
		c.unpin()
	}
	switch {
	case c.outAt < len(c.out):
	case c.w.Buffered() == 0:
		if cap(c.out) > idleOut {
			c.out = nil
		} else {
			c.out = c.out[:0]
		}
		c.outAt = 0
	case cap(c.out)-len(c.out) < len(c.out):
		c.out, c.outAt = make([]byte, 0, min(cap(c.out), flushAt)), 0
	}
}

// overSoft reports whether the replies waiting, handed to the Writer or
// not, are over the soft limit.
func (c *conn) overSoft() bool {
	soft := c.srv.cfg.OutputSoft
	return soft > 0 && c.w.Buffered()+len(c.out)-c.outAt > soft
}

// pause waits until the replies have drained to half the soft limit: the
// commands buffered wait, and nothing more is read. A client whose replies
// stay over the soft limit for Config.OutputSoftTime is disconnected: the
// first drain, to the soft limit itself, has that as its end time.
func (c *conn) pause() {
	c.flush()
	if !c.open() {
		return
	}
	c.wait = waitDrain
	cfg := &c.srv.cfg
	req := tsocket.WriterDrainSend(c.srv.ev, c.w, cfg.OutputSoft)
	if cfg.OutputSoftTime > 0 {
		req.SetEndTime(c.srv.ev.Now().Add(cfg.OutputSoftTime))
	}
	req.SetCallback(c.underSoftFn)
}

// underSoft ends the first drain of a pause: the replies are no longer
// over the soft limit, or have been for too long.
func (c *conn) underSoft(req *tevent.Req[struct{}]) {
	err := tsocket.WriterDrainRecv(req)
	switch {
	case !c.open():
		c.wait = waitNone
	case errors.Is(err, tevent.ErrTimedOut):
		c.wait = waitNone
		c.srv.logf("resp: %v: replies over the %d-byte soft output limit for %v: disconnected",
			c.s.RemoteAddress(), c.srv.cfg.OutputSoft, c.srv.cfg.OutputSoftTime)
		c.reset()
	case err != nil:
		c.wait = waitNone
		c.close() // the write failed: the client is gone
	default:
		tsocket.WriterDrainSend(c.srv.ev, c.w, c.srv.cfg.OutputSoft/2).SetCallback(c.drainedFn)
	}
}

func (c *conn) drained(req *tevent.Req[struct{}]) {
	err := tsocket.WriterDrainRecv(req)
	c.wait = waitNone
	switch {
	case !c.open():
	case err != nil:
		c.close() // the write failed: the client is gone
	default:
		c.process()
	}
}

func (c *conn) read() {
	if c.guessing() {
		c.readGuess()
		return
	}
	var err error
	if c.readNow {
		c.readNow = false
		err = c.r.ReadNow(c.srv.ev, c.s, c.readDoneFn)
	} else {
		err = c.r.Read(c.srv.ev, c.s, c.readDoneFn)
	}
	if err != nil {
		c.protocolError(err) // demoserver.ErrBufferFull
		return
	}
	c.wait = waitRead
}

func (c *conn) readDone(err error) {
	c.wait = waitNone
	switch {
	case !c.open():
	case err != nil:
		c.readFailed(err)
	default:
		c.process()
	}
}

// readFailed ends the connection after a read: at the end of the input,
// after delivering the replies (a client that shut down its side still
// gets them all); after an error, at once.
func (c *conn) readFailed(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		c.finish()
		return
	}
	if !errors.Is(err, net.ErrClosed) {
		c.srv.logf("resp: %v: read: %v", c.s.RemoteAddress(), err)
	}
	c.close()
}

// protocolError answers err as Redis does, and closes the connection once
// the reply is out.
func (c *conn) protocolError(err error) {
	c.srv.logf("resp: %v: %v", c.s.RemoteAddress(), err)
	c.out = AppendError(c.out, err)
	c.finish()
}

// shutdown is the server's shutdown hook: the command in flight, if any,
// is answered, then the replies go out and the connection closes.
func (c *conn) shutdown() {
	if c.wait == waitCall {
		c.stopping = true
		return
	}
	c.finish()
}

// finish runs no more commands: the Writer delivers every reply, then
// closes the stream.
func (c *conn) finish() {
	if !c.open() {
		return
	}
	c.flush()
	if c.closed {
		return
	}
	c.closing = true
	tsocket.WriterCloseSend(c.srv.ev, c.w).SetCallback(c.closeDoneFn)
}

func (c *conn) closeDone(req *tevent.Req[struct{}]) {
	// An error here is a write that failed: the client left first.
	_ = tsocket.WriterCloseRecv(req)
	c.drop()
}

// kill disconnects a client whose replies would pass the hard limit.
func (c *conn) kill() {
	c.srv.logf("resp: %v: replies over the %d-byte hard output limit: disconnected", c.s.RemoteAddress(), c.srv.cfg.OutputHard)
	c.reset()
}

// reset disconnects a client over an output limit with a reset, so that
// it learns at once.
func (c *conn) reset() {
	// A stream that cannot take the option is closed all the same.
	_ = c.s.SetLinger(0)
	c.close()
}

// close closes the stream at once.
func (c *conn) close() {
	if c.closed {
		return
	}
	c.drop()
	// close(2) of a socket being dropped tells the client nothing more.
	_ = c.s.Close()
}

// drop forgets the connection. Its Writer writes nothing more, so the
// values its replies referenced are free.
func (c *conn) drop() {
	c.closed = true
	c.unpin()
	delete(c.srv.conns, c.s)
}
