package resp

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Reading a large value in one call. A client that sent one SET of a
// large value usually sends another of the same size next (a cache
// refill, redis-benchmark), with a header of the same length. Read as any
// command, such a SET takes two reads: the loop's shared buffer brings
// the header and the value's first 16 KiB, copied into the value's
// buffer, and a second read brings the rest. Redis takes one, into a
// query buffer it keeps at the size of the last value, and then moves the
// value to the front of that buffer. Here the guess is the vector of the
// read: the header's length of the shared buffer, then a value buffer of
// the value's size, then the rest of the shared buffer. The header, the
// value and what follows arrive in one readv, the value at offset 0 of
// its own buffer, its final one, without a copy.
//
// A guess that is wrong (another header, another length) costs a copy of
// what the read brought into the read buffer, where it is parsed as
// usual; the guess is then dropped, and not made again for the next
// guessRest large values, twice as many after each wrong guess in a row
// up to guessRest<<guessBackoff, so that a client whose values vary in
// size soon pays the copy once in hundreds of SETs. A read shorter than
// the header (a GET between two SETs) costs a copy of those few bytes;
// after guessRest of them in a row the guess is dropped too, until the
// next large value teaches it again.

// guess is what a connection expects its next command to be: a header of
// hdr bytes, then a bulk string of n bytes as its last argument. hdr is 0
// for no guess.
type guess struct {
	hdr   int32
	n     int32
	rest  uint16 // large values to take apart before guessing again
	wrong uint8  // wrong guesses in a row
	short uint8  // reads in a row shorter than the header
}

const (
	// guessMaxHeader is the longest header guessed: well inside the
	// shared buffer, whose rest takes what follows the value.
	guessMaxHeader = 1 << 10
	// guessMaxValue is the largest value guessed: a wrong guess copies up
	// to this and a shared buffer into the read buffer, which must hold
	// it. Larger values take several reads anyway.
	guessMaxValue = MaxBuffer - sharedReadBuf
	// guessRest is how many large values a connection takes apart after
	// a wrong guess before it guesses again; guessBackoff is how many
	// times that doubles for wrong guesses in a row.
	guessRest    = 8
	guessBackoff = 5
)

// learn is told of a command taken apart from its first byte, as p parsed
// it: if its last argument is a large bulk string, the next command is
// guessed to have its shape.
func (c *conn) learn(p Partial) {
	hdr := p.Used + p.NextHeader
	switch {
	case p.Left != 1 || p.Next <= bigBulk || p.Next+2 > guessMaxValue || hdr > guessMaxHeader || c.srv.cfg.TLS != nil:
		// TLS input is copied out of crypto/tls's buffer anyway.
		c.guess.hdr = 0
	case c.guess.rest > 0:
		c.guess.rest--
	default:
		c.guess.hdr, c.guess.n, c.guess.short = int32(hdr), int32(p.Next), 0
	}
}

// guessing reports whether the next read is to be a guessed one.
func (c *conn) guessing() bool { return c.guess.hdr > 0 && len(c.r.Buffered()) == 0 }

// readGuess reads the next command as guessed.
func (c *conn) readGuess() {
	if c.guessVecFn == nil {
		c.guessVecFn, c.guessReadFn = c.guessVec, c.guessRead
	}
	c.wait = waitRead
	tsocket.ReadvSomeFuncSend(c.srv.ev, c.s, c.guessVecFn).SetCallback(c.guessReadFn)
}

// guessVec is the guessed read's vector, taken once the socket is
// readable: a waiting connection holds no value buffer. If a read finds
// nothing after all, the buffer taken stays for the next try.
func (c *conn) guessVec() [][]byte {
	if c.iov[1] == nil {
		c.iov[1] = c.valueBuf(int(c.guess.n) + 2)
	}
	h := int(c.guess.hdr)
	c.iov[0], c.iov[2] = c.srv.shared[:h], c.srv.shared[h:]
	return c.iov[:]
}

func (c *conn) guessRead(req *tevent.Req[int]) {
	n, err := tsocket.ReadvSomeFuncRecv(req)
	c.wait = waitNone
	hdr, val := c.iov[0], c.iov[1]
	c.iov = [3][]byte{}
	switch {
	case !c.open():
		c.srv.store.pool.put(val)
	case err != nil:
		c.srv.store.pool.put(val)
		c.readFailed(err)
	case n < len(hdr):
		c.short(hdr[:n], val)
	case c.guessed(hdr, val, n):
	default:
		c.missed(hdr, val, n)
	}
}

// short takes the bytes of a read that ended inside the guessed header:
// most likely another command, such as a GET, which is parsed from the
// read buffer.
func (c *conn) short(b, val []byte) {
	c.srv.guesses.short++
	if c.guess.short++; c.guess.short >= guessRest {
		c.guess.hdr = 0
	}
	_ = c.r.Add(b) // shorter than guessMaxHeader, into an empty buffer
	c.srv.store.pool.put(val)
	c.process()
}

// guessed takes the n bytes read as guessed, if the header read is the
// one guessed: its command is taken apart with val as its last argument's
// buffer, already filled with what came of it, and read on into place if
// it is not all there. It reports whether it took them.
func (c *conn) guessed(hdr, val []byte, n int) bool {
	h := len(hdr)
	p, ok, err := c.srv.parser.Start(hdr, c.args[:0])
	if err != nil || !ok || p.Left != 1 || p.Used+p.NextHeader != h || p.Next+2 != int64(len(val)) {
		return false
	}
	got := min(n-h, len(val))
	// What followed the value: less than the shared buffer, into the
	// empty read buffer.
	_ = c.r.Add(c.srv.shared[h : h+n-h-got])
	c.srv.guesses.right++
	c.guess.short, c.guess.wrong = 0, 0
	c.beginPart()
	for _, a := range p.Args {
		c.part.args = append(c.part.args, ownedCopy(a))
	}
	c.part.left = 1
	c.part.bulk, c.part.got, c.part.need = val, got, int64(len(val))
	if got < len(val) {
		c.readBulk()
		return true
	}
	if c.endBulk() {
		c.process()
	}
	return true
}

// missed takes the n bytes read by a wrong guess: they go into the read
// buffer in the order they came, and are parsed from there.
func (c *conn) missed(hdr, val []byte, n int) {
	c.guess.hdr = 0
	c.guess.rest = guessRest << c.guess.wrong
	c.guess.wrong = min(c.guess.wrong+1, guessBackoff)
	c.srv.guesses.wrong++
	h := len(hdr)
	got := min(n-h, len(val))
	// Within the read buffer's cap: the guess is only made for values
	// that leave room for a shared buffer more, and the buffer is empty.
	_ = c.r.Add(hdr[:h])
	_ = c.r.Add(val[:got])
	_ = c.r.Add(c.srv.shared[len(hdr) : len(hdr)+n-h-got])
	c.srv.store.pool.put(val)
	c.process()
}
