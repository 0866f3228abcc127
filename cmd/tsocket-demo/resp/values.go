package resp

// Buffers of large values, reused. A SET of a large value replaces one
// of about the same size more often than not (redis-benchmark overwrites
// one key; a cache overwrites its entries), and Go zeroes every buffer it
// allocates and collects every one it drops: at 100 kB a value, that
// memclr and the collections it brings on cost a fifth of the server's
// CPU per SET. Redis reuses nothing either, but malloc neither clears nor
// traces. So a loop keeps the buffers that its store's SETs and DELs let
// go of, once nothing else can read them, for the next large value read
// on that loop.
//
// A buffer that backed a stored value may still be read after the store
// let go of it, in two ways: a GET reply written from it (see
// conn.reply) is still queued in some client's Writer on this loop, or it
// went to another loop as a GET result. The first kind is counted (pins)
// until the connection's Writer has written everything; the second is
// never reused (shared), since this loop does not learn when the other is
// done with it.

const (
	// poolMin is the smallest buffer kept: values from zeroCopyReply on
	// are the ones a GET reply may be written from.
	poolMin = zeroCopyReply
	// poolMax bounds the bytes of the buffers a loop keeps. In steady
	// state one SET frees a buffer as the next one starts, so a few
	// suffice; the bound is what an idle server holds at most beyond its
	// values.
	poolMax = 8 << 20
	// poolSlack is how much larger than asked (in 1/8ths) a reused
	// buffer may be, so that a small value does not keep a big buffer.
	poolSlack = 2
)

// valuePool is a loop's reusable value buffers and what it knows of the
// readers of its store's values. It belongs to the loop's goroutine.
type valuePool struct {
	free  [][]byte // buffers nothing references, each of cap >= poolMin
	bytes int      // their total capacity
	// pins counts, per buffer (keyed by its first byte), the replies in
	// this loop's Writers that reference it; retired says the store let
	// go of it meanwhile, so it is free once the count falls to 0.
	pins map[*byte]pin
	// shared are the stored values that went to another loop: never
	// reused. An entry goes when its value leaves the store.
	shared map[*byte]struct{}
}

type pin struct {
	n       int32
	retired bool
}

func newValuePool() *valuePool {
	return &valuePool{pins: make(map[*byte]pin), shared: make(map[*byte]struct{})}
}

// key is what identifies b's buffer: its first byte (b has cap >= poolMin).
func key(b []byte) *byte { return &b[:1][0] }

// get returns a buffer of length n, reused if one fits and not cleared
// (its bytes are whatever the last value left), or nil.
func (p *valuePool) get(n int) []byte {
	if p == nil || n < poolMin {
		return nil
	}
	for i, b := range p.free {
		if c := cap(b); c >= n && c <= n+n/8*poolSlack {
			last := len(p.free) - 1
			p.free[i], p.free[last] = p.free[last], nil
			p.free = p.free[:last]
			p.bytes -= c
			return b[:n]
		}
	}
	return nil
}

// put takes back b, a buffer from get that holds no value.
func (p *valuePool) put(b []byte) {
	if p != nil && cap(b) >= poolMin {
		p.keep(b)
	}
}

// release takes back b, a value the store let go of: kept for reuse
// unless another loop may hold it, or, if a reply still references it,
// once that reply is written.
func (p *valuePool) release(b []byte) {
	if p == nil || cap(b) < poolMin {
		return
	}
	k := key(b)
	if _, ok := p.shared[k]; ok {
		delete(p.shared, k)
		return
	}
	if pn, ok := p.pins[k]; ok {
		pn.retired = true
		p.pins[k] = pn
		return
	}
	p.keep(b)
}

// keep adds b to the free buffers while they are under poolMax.
func (p *valuePool) keep(b []byte) {
	if p.bytes+cap(b) > poolMax {
		return // the collector takes it
	}
	p.free = append(p.free, b[:0])
	p.bytes += cap(b)
}

// share marks b, a stored value, as handed to another loop.
func (p *valuePool) share(b []byte) {
	if p != nil && cap(b) >= poolMin {
		p.shared[key(b)] = struct{}{}
	}
}

// pin counts a reply that references b until unpin.
func (p *valuePool) pin(b []byte) {
	if p == nil || cap(b) < poolMin {
		return
	}
	k := key(b)
	pn := p.pins[k]
	pn.n++
	p.pins[k] = pn
}

// unpin ends a reference pin counted; the last one of a buffer the store
// let go of frees it.
func (p *valuePool) unpin(b []byte) {
	if p == nil || cap(b) < poolMin {
		return
	}
	k := key(b)
	pn, ok := p.pins[k]
	if !ok {
		return
	}
	if pn.n--; pn.n > 0 {
		p.pins[k] = pn
		return
	}
	delete(p.pins, k)
	if pn.retired {
		p.keep(b)
	}
}
