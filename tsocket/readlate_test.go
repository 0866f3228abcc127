package tsocket_test

import (
	"errors"
	"io"
	"net"
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// The reads whose buffers are taken late, ReadSomeFuncSend and
// ReadvSomeFuncSend, share their rules: get is called only once the
// socket is readable, a nil get or no bytes to fill is ErrEmptyVector
// with the input left for the next read, and closing or abandoning ends
// the read without reading into the buffer or holding it. These tests
// run each rule on both, ReadvSomeFuncSend with a one-buffer vector.

// lateRead starts one kind of late read from a get of single buffers
// (nil for none).
type lateRead struct {
	name  string
	start func(ev *tevent.Context, s *tsocket.Stream, get func() []byte) *lateReq
}

// lateReq is a late read's request, whatever its type.
type lateReq struct {
	abandon    func()
	inProgress func() bool
	// result polls the request and returns the bytes read, a prefix of
	// the buffer get returned last.
	result func(t *testing.T) ([]byte, error)
}

var lateReads = []lateRead{
	{"ReadSomeFuncSend", func(ev *tevent.Context, s *tsocket.Stream, get func() []byte) *lateReq {
		req := tsocket.ReadSomeFuncSend(ev, s, get)
		return &lateReq{req.Abandon, req.IsInProgress, func(t *testing.T) ([]byte, error) { return result(t, req) }}
	}},
	{"ReadvSomeFuncSend", func(ev *tevent.Context, s *tsocket.Stream, get func() []byte) *lateReq {
		var last []byte
		var vec func() [][]byte
		if get != nil {
			vec = func() [][]byte { last = get(); return [][]byte{last} }
		}
		req := tsocket.ReadvSomeFuncSend(ev, s, vec)
		return &lateReq{req.Abandon, req.IsInProgress, func(t *testing.T) ([]byte, error) {
			n, err := result(t, req)
			return last[:n], err
		}}
	}},
}

// eachLateRead runs f for each kind of late read on each backend.
func eachLateRead(t *testing.T, f func(t *testing.T, ev *tevent.Context, k lateRead)) {
	for _, k := range lateReads {
		t.Run(k.name, func(t *testing.T) {
			backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) { f(t, newCtx(), k) })
		})
	}
}

func TestLateReadRules(t *testing.T) {
	eachLateRead(t, func(t *testing.T, ev *tevent.Context, k lateRead) {
		a, b := unixPair(t, ev)
		buf := make([]byte, 8)
		gets := 0
		get := func() []byte { gets++; return buf }

		// Data already there: nothing happens inside Send.
		writeAll(t, ev, a, []byte("x"))
		req := k.start(ev, b, get)
		if !req.inProgress() || gets != 0 {
			t.Fatalf("inside Send: in progress %v, gets %d; want true, 0", req.inProgress(), gets)
		}
		if p, err := req.result(t); string(p) != "x" || err != nil || gets != 1 {
			t.Fatalf("read %q, %v after %d gets; want x after one", p, err, gets)
		}

		// A nil get, or one that gives nothing to fill, is ErrEmptyVector,
		// and the input stays for the next read.
		if _, err := k.start(ev, b, nil).result(t); !errors.Is(err, tsocket.ErrEmptyVector) {
			t.Fatalf("nil get: %v, want ErrEmptyVector", err)
		}
		writeAll(t, ev, a, []byte("y"))
		if _, err := k.start(ev, b, func() []byte { return nil }).result(t); !errors.Is(err, tsocket.ErrEmptyVector) {
			t.Fatalf("nothing to fill: %v, want ErrEmptyVector", err)
		}
		if b.HoldsReadBuffer() || b.HoldsReadVector() || b.HoldsReadvFunc() {
			t.Fatal("a refused read still references its buffer or get")
		}
		if p, err := k.start(ev, b, get).result(t); string(p) != "y" || err != nil {
			t.Fatalf("after the refused buffer: %q, %v; want y", p, err)
		}

		a.Close()
		if _, err := k.start(ev, b, get).result(t); !errors.Is(err, io.EOF) {
			t.Fatalf("after the peer closed: %v, want io.EOF", err)
		}
	})
}

// Closing the stream, or abandoning the request, from inside get ends the
// read cleanly: no read is made into the buffer and nothing is held.
func TestLateReadCloseOrAbandonInsideGet(t *testing.T) {
	eachLateRead(t, func(t *testing.T, ev *tevent.Context, k lateRead) {
		a, b := unixPair(t, ev)
		buf := make([]byte, 8)
		gets := 0
		var req *lateReq
		req = k.start(ev, b, func() []byte {
			gets++
			req.abandon()
			return buf
		})
		writeAll(t, ev, a, []byte("data"))
		for gets < 1 {
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
		}
		if b.HoldsReadBuffer() || b.HoldsReadVector() || b.HoldsReadvFunc() || string(buf[:4]) == "data" {
			t.Fatal("an abandoned read still read into, or held, its buffer")
		}
		// The stream is free for the next read, and the data is intact.
		if p, err := k.start(ev, b, func() []byte { return buf }).result(t); string(p) != "data" || err != nil {
			t.Fatalf("read after abandon = %q, %v", p, err)
		}

		writeAll(t, ev, a, []byte("more"))
		if _, err := k.start(ev, b, func() []byte { b.Close(); return buf }).result(t); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("closed inside get: %v, want net.ErrClosed", err)
		}
	})
}

// A read that waits, then is abandoned, releases the stream's interest and
// what it held, and never calls get.
func TestLateReadAbandonWhileWaiting(t *testing.T) {
	eachLateRead(t, func(t *testing.T, ev *tevent.Context, k lateRead) {
		a, b := unixPair(t, ev)
		gets := 0
		req := k.start(ev, b, func() []byte { gets++; return make([]byte, 8) })
		req.abandon()
		if b.HoldsReadvFunc() {
			t.Fatal("an abandoned read still holds its get function")
		}
		writeAll(t, ev, a, []byte("late"))
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if gets != 0 || b.HasEvent() {
			t.Fatalf("after abandon: gets %d, event held %v; want 0, false", gets, b.HasEvent())
		}
	})
}

// In steady state (the loop already watching the socket), a late read
// costs its request and nothing else, whatever get hands out.
func TestLateReadAllocations(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		msg := [][]byte{[]byte("ping")}
		buf := make([]byte, 64)
		get := func() []byte { return buf }
		iov := [][]byte{buf[:2], buf[2:]}
		vec := func() [][]byte { return iov }
		for name, read := range map[string]func() (int, error){
			"ReadSomeFuncSend": func() (int, error) {
				p, err := result(t, tsocket.ReadSomeFuncSend(ev, b, get))
				return len(p), err
			},
			"ReadvSomeFuncSend": func() (int, error) { return result(t, tsocket.ReadvSomeFuncSend(ev, b, vec)) },
		} {
			round := func() {
				tsocket.WritevSend(ev, a, msg)
				if n, err := read(); n != 4 || err != nil {
					t.Fatalf("%s: read %d, %v", name, n, err)
				}
			}
			round()
			// Two requests per round: the read and the write.
			if avg := testing.AllocsPerRun(200, round); avg > 2 {
				t.Errorf("%s: %.1f allocations per read and write; want at most 2 (the requests)", name, avg)
			}
		}
	})
}
