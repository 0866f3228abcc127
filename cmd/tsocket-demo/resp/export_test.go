package resp

// Pool is a valuePool for the tests of resp_test.
type Pool struct{ p *valuePool }

func NewPool() Pool                     { return Pool{newValuePool()} }
func (p Pool) Get(n int) []byte         { return p.p.get(n) }
func (p Pool) Release(b []byte)         { p.p.release(b) }
func (p Pool) Pin(b []byte)             { p.p.pin(b) }
func (p Pool) Unpin(b []byte)           { p.p.unpin(b) }
func (p Pool) Share(b []byte)           { p.p.share(b) }
func (p Pool) Free() (n, bytes int)     { return len(p.p.free), p.p.bytes }
func (p Pool) Held() (pins, shared int) { return len(p.p.pins), len(p.p.shared) }

const (
	PoolMin   = poolMin
	PoolMax   = poolMax
	BulkAhead = bulkAhead
)

// Bulk is a connection reading a large bulk string: its buffer's size and
// how much of it has arrived.
type Bulk struct{ Cap, Got int }

// Bulks returns the bulk strings srv's connections are reading. Call it
// on srv's loop.
func Bulks(srv *Server) []Bulk {
	var out []Bulk
	for _, c := range srv.conns {
		if c.wait == waitBulk {
			out = append(out, Bulk{cap(c.part.bulk), c.part.got})
		}
	}
	return out
}

// Guesses counts the reads srv's connections made as guessed: right,
// wrong, and short of the header. Call it on srv's loop.
func Guesses(srv *Server) [3]int {
	g := srv.guesses
	return [3]int{g.right, g.wrong, g.short}
}

const GuessRest = guessRest

// StorePool returns srv's store's pool.
func StorePool(srv *Server) Pool { return Pool{srv.store.pool} }

// LoopServer returns the Server on loop i of ls.
func LoopServer(ls *Loops, i int) *Server { return ls.servers[i] }
