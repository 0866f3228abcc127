package tsocket_test

import (
	"errors"
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// What is ReadvSomeFuncSend's own: the bytes go across the vector in
// order, a read ends with the first bytes, and it is the stream's one
// read in flight. The rules it shares with ReadSomeFuncSend are tested in
// readlate_test.go.
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
		n, err := result(t, req)
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
		if n, err := result(t, tsocket.ReadvSomeFuncSend(ev, b, get)); n != 2 || err != nil || string(hdr[:2]) != "ab" {
			t.Fatalf("short read = %d, %v, %q; want 2 bytes in the first buffer", n, err, hdr[:2])
		}

		// More than the vector holds: it is filled, the rest waits.
		poll(t, tsocket.WritevSend(ev, a, [][]byte{[]byte("0123456789")}))
		small := func() [][]byte { return [][]byte{hdr[:1], nil, val[:2]} }
		if n, err := result(t, tsocket.ReadvSomeFuncSend(ev, b, small)); n != 3 || err != nil || string(hdr[:1])+string(val[:2]) != "012" {
			t.Fatalf("filled vector = %d, %v; want 3 bytes, 012", n, err)
		}
		if n, err := result(t, tsocket.ReadvSomeFuncSend(ev, b, get)); n != 7 || err != nil {
			t.Fatalf("rest = %d, %v; want 7", n, err)
		}
	})
}
