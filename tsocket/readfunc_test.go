package tsocket_test

import (
	"errors"
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

func TestReadSomeFunc(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		shared := make([]byte, 64)
		gets := 0
		get := func() []byte { gets++; return shared }

		// Nothing there: the read waits holding no buffer; get is not
		// called until the socket is readable.
		req := tsocket.ReadSomeFuncSend(ev, b, get)
		if !req.IsInProgress() || b.HoldsReadBuffer() || gets != 0 {
			t.Fatalf("waiting read: in progress %v, holds buffer %v, gets %d; want true, false, 0",
				req.IsInProgress(), b.HoldsReadBuffer(), gets)
		}
		if _, err := tsocket.ReadSomeFuncRecv(tsocket.ReadSomeFuncSend(ev, b, get)); !errors.Is(err, tsocket.ErrBusy) {
			t.Fatalf("a second read in flight: %v, want ErrBusy", err)
		}
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("hello")}))
		p, err := result(t, req)
		if err != nil || string(p) != "hello" || &p[0] != &shared[0] || gets != 1 {
			t.Fatalf("ReadSomeFuncRecv = %q, %v (gets %d); want hello in the shared buffer after one get", p, err, gets)
		}
		if b.HoldsReadBuffer() {
			t.Fatal("the stream still references the buffer after the read")
		}

		// Data already there: still nothing happens inside Send (get is
		// not called), and at most len(buffer) bytes are read.
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("0123456789")}))
		small := make([]byte, 4)
		called := false
		req = tsocket.ReadSomeFuncSend(ev, b, func() []byte { called = true; return small })
		if called || !req.IsInProgress() {
			t.Fatal("get called, or the read done, inside Send")
		}
		if p, err := result(t, req); string(p) != "0123" || err != nil {
			t.Fatalf("ReadSomeFuncRecv = %q, %v; want 0123", p, err)
		}
		if p, err := result(t, tsocket.ReadSomeFuncSend(ev, b, get)); string(p) != "456789" || err != nil {
			t.Fatalf("rest = %q, %v", p, err)
		}
	})
}

// One buffer shared by every stream of a loop: with several streams ready
// in the same wait, each callback still sees its own bytes, because it runs
// straight after its read.
func TestReadSomeFuncSharedBuffer(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		const n = 8
		shared := make([]byte, 32)
		get := func() []byte { return shared }
		got := make([]string, n)
		var reqs []*tevent.Req[[]byte]
		for i := range n {
			a, b := unixPair(t, ev)
			// The peer has written before the read starts.
			poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte{'a' + byte(i), '0' + byte(i)}}))
			req := tsocket.ReadSomeFuncSend(ev, b, get)
			req.SetCallback(func(req *tevent.Req[[]byte]) {
				p, err := tsocket.ReadSomeFuncRecv(req)
				if err != nil {
					t.Errorf("stream %d: %v", i, err)
				}
				got[i] = string(p)
			})
			reqs = append(reqs, req)
		}
		for _, req := range reqs {
			poll(t, req)
		}
		for i, g := range got {
			if want := string([]byte{'a' + byte(i), '0' + byte(i)}); g != want {
				t.Errorf("stream %d read %q, want %q", i, g, want)
			}
		}
	})
}

// A stream with much more data waiting than a buffer holds is read several
// times per readiness report (its callbacks start the next read), but no
// more than ReadChain times: a second busy stream gets its turn in the same
// iteration.
func TestReadChainIsBounded(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		const bufSize, total = 1024, 32 * 1024
		reads := make([]int, 2)
		left := make([]int, 2)
		for i := range 2 {
			a, b := unixPair(t, ev)
			poll(t, tsocket.WritevSend(ev, a, [][]byte{make([]byte, total)}))
			left[i] = total
			buf := make([]byte, bufSize)
			var next func()
			next = func() {
				tsocket.ReadSomeFuncSend(ev, b, func() []byte { return buf }).SetCallback(func(req *tevent.Req[[]byte]) {
					p, err := tsocket.ReadSomeFuncRecv(req)
					if err != nil {
						t.Errorf("stream %d: %v", i, err)
						return
					}
					reads[i]++
					if left[i] -= len(p); left[i] > 0 {
						next()
					}
				})
			}
			next()
		}
		// One iteration: both streams are ready, each makes ReadChain
		// reads of a full buffer.
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if reads[0] != tsocket.ReadChain || reads[1] != tsocket.ReadChain {
			t.Fatalf("one iteration made %v reads; want %d for each stream", reads, tsocket.ReadChain)
		}
		start := ev.Iterations()
		for left[0] > 0 || left[1] > 0 {
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
		}
		// 32 reads each, ReadChain per iteration (give or take a short read).
		if n, most := ev.Iterations()-start, uint64(total/bufSize/tsocket.ReadChain+2); n > most {
			t.Errorf("reading the rest took %d iterations, want at most %d", n, most)
		}
	})
}

// A readv that fills exactly what it asked for says nothing of what
// follows. A peer that waits for each reply (a large SET, a PDU per round
// trip) has sent nothing more, and chaining to the next read would make
// one that can only say EAGAIN per message; a pipelining peer has, and
// chaining saves a wait per message. The stream learns which from the
// read after the fill, and notices when a peer turns from one to the
// other.
func TestReadAfterExactFill(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		const size, rounds = 512, 64
		ev := newCtx()
		cli, srv := unixPair(t, ev)
		stop := tsocket.CountDryReads(srv)
		defer func() { stop() }()
		served := 0
		var serve func()
		serve = func() {
			tsocket.ReadvSend(ev, srv, [][]byte{make([]byte, size)}).SetCallback(func(req *tevent.Req[int]) {
				if _, err := tsocket.ReadvRecv(req); err != nil {
					t.Error(err)
					return
				}
				served++
				tsocket.WritevSend(ev, srv, [][]byte{{'+'}})
				serve()
			})
		}
		run := func(until int) uint64 {
			start := ev.Iterations()
			for served < until && !t.Failed() {
				if err := ev.LoopOnce(); err != nil {
					t.Fatal(err)
				}
			}
			return ev.Iterations() - start
		}
		serve() // finds nothing: the client has sent nothing yet
		stop()
		stop = tsocket.CountDryReads(srv)

		// Round trips: the client sends the next message once it has the
		// reply to the last.
		got := make([]byte, 1)
		asked := 0
		var ask func()
		ask = func() {
			tsocket.WritevSend(ev, cli, [][]byte{make([]byte, size)})
			tsocket.ReadvSend(ev, cli, [][]byte{got}).SetCallback(func(req *tevent.Req[int]) {
				if _, err := tsocket.ReadvRecv(req); err != nil {
					t.Error(err)
					return
				}
				if asked++; asked < rounds {
					ask()
				}
			})
		}
		ask()
		run(rounds)
		// Each round's read after the fill would be dry; only the probes
		// are.
		if n, most := stop(), rounds/tsocket.FillProbe+2; n > most {
			t.Errorf("%d round trips made %d reads that found nothing; want at most %d", rounds, n, most)
		}

		// Pipelined: every message at once. The stream chains again after
		// its next probe, ReadChain messages a readiness report.
		stop = tsocket.CountDryReads(srv)
		tsocket.WritevSend(ev, cli, [][]byte{make([]byte, size*rounds)})
		if n, most := run(2*rounds), uint64(tsocket.FillProbe+rounds/tsocket.ReadChain+2); n > most {
			t.Errorf("%d pipelined messages took %d iterations; want at most %d", rounds, n, most)
		}
		if n := stop(); n > 0 {
			t.Errorf("%d pipelined messages made %d reads that found nothing", rounds, n)
		}
	})
}
