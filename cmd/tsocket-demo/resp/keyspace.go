package resp

import (
	"bytes"
	"hash/maphash"

	"github.com/gotevent/gotevent/tevent"
)

// Keyspace is the one key space that the loops of a server share. Each
// key belongs to one loop, the hash of the key modulo the number of loops,
// and lives in that loop's [Store]; a connection on another loop carries
// a command for it there and back with tevent.CallSend.
//
// A Keyspace is made before its loops run and does not change: its methods
// may be called from any goroutine, but each Store only from its own
// loop's.
type Keyspace struct {
	seed   maphash.Seed
	loops  []*tevent.Context // immutable
	stores []*Store          // stores[i] belongs to loops[i]
}

// NewKeyspace returns an empty key space spread over loops, one Store
// each; with one loop it is a plain Store.
func NewKeyspace(loops ...*tevent.Context) *Keyspace {
	ks := &Keyspace{seed: maphash.MakeSeed(), loops: loops, stores: make([]*Store, len(loops))}
	for i := range ks.stores {
		ks.stores[i] = &Store{m: make(map[string][]byte), pool: newValuePool()}
	}
	return ks
}

// Loops returns the number of loops the keys are spread over.
func (ks *Keyspace) Loops() int { return len(ks.loops) }

// Store returns loop i's part of the key space, to be used on that loop's
// goroutine only.
func (ks *Keyspace) Store(i int) *Store { return ks.stores[i] }

// Owner returns the loop that owns key.
func (ks *Keyspace) Owner(key []byte) int {
	if len(ks.loops) == 1 {
		return 0
	}
	return int(maphash.Bytes(ks.seed, key) % uint64(len(ks.loops)))
}

// index returns ev's place in the key space, or -1.
func (ks *Keyspace) index(ev *tevent.Context) int {
	for i, l := range ks.loops {
		if l == ev {
			return i
		}
	}
	return -1
}

// cloneArgs copies a into one allocation, so that arguments aliasing a
// read buffer can cross to another loop, and a stored value keeps nothing
// else alive beyond its command's other arguments.
func cloneArgs(a [][]byte) [][]byte {
	n := 0
	for _, b := range a {
		n += len(b)
	}
	block := make([]byte, 0, n)
	out := make([][]byte, len(a))
	for i, b := range a {
		start := len(block)
		block = append(block, b...)
		out[i] = block[start:len(block):len(block)]
	}
	return out
}

// ownedCopy copies b, keeping an empty argument non-nil.
func ownedCopy(b []byte) []byte {
	if c := bytes.Clone(b); c != nil {
		return c
	}
	return []byte{}
}
