package tsocket_test

import (
	"errors"
	"io"
	"net"
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// readvFunc polls req and returns its result.
func readvFunc(t *testing.T, req *tevent.Req[int]) (int, error) {
	t.Helper()
	poll(t, req)
	return tsocket.ReadvSomeFuncRecv(req)
}

func TestReadvSomeFunc(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		hdr, val, rest := make([]byte, 3), make([]byte, 4), make([]byte, 64)
		gets := 0
		get := func() [][]byte { gets++; return [][]byte{hdr, val, rest} }

		// Nothing there: the read waits holding no vector, and get is not
		// called until the socket is readable.
		req := tsocket.ReadvSomeFuncSend(ev, b, get)
		if !req.IsInProgress() || b.HoldsReadVector() || gets != 0 {
			t.Fatalf("waiting read: in progress %v, holds vector %v, gets %d; want true, false, 0",
				req.IsInProgress(), b.HoldsReadVector(), gets)
		}
		if _, err := tsocket.ReadvSomeFuncRecv(tsocket.ReadvSomeFuncSend(ev, b, get)); !errors.Is(err, tsocket.ErrBusy) {
			t.Fatalf("a second read in flight: %v, want ErrBusy", err)
		}
		if _, err := tsocket.ReadSomeFuncRecv(tsocket.ReadSomeFuncSend(ev, b, func() []byte { return rest })); !errors.Is(err, tsocket.ErrBusy) {
			t.Fatalf("a ReadSomeFuncSend beside it: %v, want ErrBusy", err)
		}
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("hello world")}))
		n, err := readvFunc(t, req)
		if err != nil || n != 11 || gets != 1 {
			t.Fatalf("ReadvSomeFuncRecv = %d, %v (gets %d); want 11 after one get", n, err, gets)
		}
		if string(hdr) != "hel" || string(val) != "lo w" || string(rest[:4]) != "orld" {
			t.Fatalf("the vector holds %q %q %q; want the bytes in order across it", hdr, val, rest[:4])
		}
		if b.HoldsReadVector() || b.HoldsReadvFunc() {
			t.Fatal("the stream still references the vector or get after the read")
		}

		// Fewer bytes than the first buffer holds: a short read ends it.
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("ab")}))
		if n, err := readvFunc(t, tsocket.ReadvSomeFuncSend(ev, b, get)); n != 2 || err != nil || string(hdr[:2]) != "ab" {
			t.Fatalf("short read = %d, %v, %q; want 2 bytes in the first buffer", n, err, hdr[:2])
		}

		// More than the vector holds: it is filled, the rest waits.
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("0123456789")}))
		small := func() [][]byte { return [][]byte{hdr[:1], nil, val[:2]} }
		if n, err := readvFunc(t, tsocket.ReadvSomeFuncSend(ev, b, small)); n != 3 || err != nil || string(hdr[:1])+string(val[:2]) != "012" {
			t.Fatalf("filled vector = %d, %v; want 3 bytes, 012", n, err)
		}
		if n, err := readvFunc(t, tsocket.ReadvSomeFuncSend(ev, b, get)); n != 7 || err != nil {
			t.Fatalf("rest = %d, %v; want 7", n, err)
		}

		// A nil get, or a vector with no bytes, is ErrEmptyVector.
		if _, err := tsocket.ReadvSomeFuncRecv(tsocket.ReadvSomeFuncSend(ev, b, nil)); !errors.Is(err, tsocket.ErrEmptyVector) {
			t.Fatalf("nil get: %v, want ErrEmptyVector", err)
		}
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("x")}))
		empty := func() [][]byte { return [][]byte{nil, {}} }
		if _, err := readvFunc(t, tsocket.ReadvSomeFuncSend(ev, b, empty)); !errors.Is(err, tsocket.ErrEmptyVector) {
			t.Fatalf("empty vector: %v, want ErrEmptyVector", err)
		}
		if b.HoldsReadVector() || b.HoldsReadvFunc() {
			t.Fatal("a refused vector is still referenced")
		}
		// The byte is still there for the next read.
		if n, err := readvFunc(t, tsocket.ReadvSomeFuncSend(ev, b, get)); n != 1 || err != nil || hdr[0] != 'x' {
			t.Fatalf("after the refused vector: %d, %v; want the x", n, err)
		}

		a.Close()
		if _, err := readvFunc(t, tsocket.ReadvSomeFuncSend(ev, b, get)); !errors.Is(err, io.EOF) {
			t.Fatalf("after the peer closed: %v, want io.EOF", err)
		}
	})
}

// Closing the stream or abandoning the request, from inside get or while
// the read waits, ends the read cleanly: nothing is read into the vector,
// nothing is held, and get is not called again.
func TestReadvSomeFuncCloseOrAbandon(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		buf := make([]byte, 8)
		var req *tevent.Req[int]
		gets := 0
		req = tsocket.ReadvSomeFuncSend(ev, b, func() [][]byte {
			gets++
			req.Abandon()
			return [][]byte{buf}
		})
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("data")}))
		for gets < 1 {
			if err := ev.LoopOnce(); err != nil {
				t.Fatal(err)
			}
		}
		if b.HoldsReadVector() || b.HoldsReadvFunc() || string(buf[:4]) == "data" {
			t.Fatal("an abandoned read still read into, or held, its vector")
		}
		if n, err := readvFunc(t, tsocket.ReadvSomeFuncSend(ev, b, func() [][]byte { return [][]byte{buf} })); n != 4 || err != nil || string(buf[:4]) != "data" {
			t.Fatalf("read after abandon = %d, %v", n, err)
		}

		// Abandoned while waiting: get is never called.
		gets = 0
		req = tsocket.ReadvSomeFuncSend(ev, b, func() [][]byte { gets++; return [][]byte{buf} })
		req.Abandon()
		if b.HoldsReadvFunc() {
			t.Fatal("an abandoned read still holds its get function")
		}
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("late")}))
		if err := ev.LoopOnce(); err != nil {
			t.Fatal(err)
		}
		if gets != 0 || b.HasEvent() {
			t.Fatalf("after abandon: gets %d, event held %v; want 0, false", gets, b.HasEvent())
		}

		// Closed by get.
		req = tsocket.ReadvSomeFuncSend(ev, b, func() [][]byte { b.Close(); return [][]byte{buf} })
		if _, err := readvFunc(t, req); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("closed inside get: %v, want net.ErrClosed", err)
		}
	})
}

// In steady state a read costs its request and nothing else.
func TestReadvSomeFuncAllocations(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := unixPair(t, ev)
		msg := [][]byte{[]byte("ping")}
		iov := [][]byte{make([]byte, 2), make([]byte, 64)}
		get := func() [][]byte { return iov }
		round := func() {
			req := tsocket.ReadvSomeFuncSend(ev, b, get)
			tsocket.WritevSend(ev, a, msg)
			if n, err := readvFunc(t, req); n != 4 || err != nil {
				t.Fatalf("read %d, %v", n, err)
			}
		}
		round()
		// Two requests per round: the read and the write.
		if avg := testing.AllocsPerRun(200, round); avg > 2 {
			t.Errorf("%.1f allocations per read and write; want at most 2 (the requests)", avg)
		}
	})
}
