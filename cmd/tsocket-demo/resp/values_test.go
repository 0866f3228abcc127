package resp_test

import (
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// same reports whether a and b start at the same byte of one buffer.
func same(a, b []byte) bool { return cap(a) > 0 && cap(b) > 0 && &a[:1][0] == &b[:1][0] }

// A value buffer is reused only once nothing can read it: not while a
// reply pins it, never once it went to another loop; small ones and ones
// past the pool's bound go to the collector.
func TestValuePool(t *testing.T) {
	p := resp.NewPool()
	if b := p.Get(100_000); b != nil {
		t.Fatalf("an empty pool gave a buffer of %d bytes", cap(b))
	}
	small := make([]byte, resp.PoolMin-1)
	p.Release(small)
	if n, _ := p.Free(); n != 0 {
		t.Fatalf("a %d-byte buffer was kept", len(small))
	}

	v := make([]byte, 100_000)
	p.Release(v)
	if b := p.Get(200_000); b != nil {
		t.Fatal("a 100 kB buffer was handed out for 200 kB")
	}
	if b := p.Get(50_000); b != nil {
		t.Fatal("a 100 kB buffer was handed out for 50 kB: a small value would keep it")
	}
	if b := p.Get(99_000); !same(b, v) || len(b) != 99_000 {
		t.Fatalf("Get(99000) = %d bytes (same buffer: %v), want the 100 kB buffer released", len(b), same(b, v))
	}
	if n, bytes := p.Free(); n != 0 || bytes != 0 {
		t.Fatalf("after taking it back: %d buffers, %d bytes kept", n, bytes)
	}

	// Pinned twice by replies, let go of by the store: free after the
	// second reply only.
	p.Pin(v)
	p.Pin(v)
	p.Release(v)
	p.Unpin(v)
	if b := p.Get(len(v)); b != nil {
		t.Fatal("a buffer was reused while a reply still referenced it")
	}
	p.Unpin(v)
	if pins, _ := p.Held(); pins != 0 {
		t.Fatalf("%d pins left after every reply was written", pins)
	}
	if b := p.Get(len(v)); !same(b, v) {
		t.Fatal("the buffer was not reused once its last reply was written")
	}

	// Pinned while still stored: the pin goes, the buffer stays the
	// store's.
	p.Pin(v)
	p.Unpin(v)
	if n, _ := p.Free(); n != 0 {
		t.Fatal("a buffer still stored was freed when its reply was written")
	}

	// Handed to another loop: never reused, and forgotten once let go of.
	p.Share(v)
	p.Release(v)
	if b := p.Get(len(v)); b != nil {
		t.Fatal("a buffer another loop may read was reused")
	}
	if _, shared := p.Held(); shared != 0 {
		t.Fatalf("%d shared buffers remembered after the store let go of them", shared)
	}

	// The pool holds at most PoolMax bytes.
	for range 2 * resp.PoolMax / (1 << 20) {
		p.Release(make([]byte, 1<<20))
	}
	if _, bytes := p.Free(); bytes > resp.PoolMax {
		t.Fatalf("the pool holds %d bytes, over its %d", bytes, resp.PoolMax)
	}
}

// serveRESP runs the server with cfg on one loop (StartLoops) and
// returns it, its loop and its address.
func serveRESP(t *testing.T, cfg resp.Config) (*resp.Server, *tevent.Context, string) {
	t.Helper()
	ls, g, addr := serveLoops(t, cfg, 1)
	return resp.LoopServer(ls, 0), g.Contexts()[0], addr
}

// serveLoops runs the server with cfg on n loops sharing one key space,
// and returns them, their group and their address.
func serveLoops(t *testing.T, cfg resp.Config, n int) (*resp.Loops, *tevent.Group, string) {
	t.Helper()
	g, err := tevent.NewGroup(n)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := resp.StartLoops(g, addr, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ls.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ls, g, ls.Addr.(*tsocket.InetAddr).AddrPort().String()
}

// waitBulks asks srv's loop, every millisecond for 10 seconds at most,
// for the bulk strings being read, until ok accepts them.
func waitBulks(t *testing.T, srv *resp.Server, ev *tevent.Context, ok func([]resp.Bulk) bool) []resp.Bulk {
	t.Helper()
	got := make(chan []resp.Bulk, 1)
	deadline := time.Now().Add(10 * time.Second)
	if err := ev.Post(func() {
		ev.AddTimer(ev.Now(), func(te *tevent.Timer, now time.Time) {
			if b := resp.Bulks(srv); ok(b) || now.After(deadline) {
				got <- b
				return
			}
			te.Reset(now.Add(time.Millisecond))
		})
	}); err != nil {
		t.Fatal(err)
	}
	return <-got
}

// Clients that announce the longest bulk string allowed (512 MiB) and
// send a byte of it make the server allocate BulkAhead each, not what
// they announced; one that goes on sending makes the buffer grow with
// the bytes that arrive, never more than BulkAhead or as much again as
// has arrived ahead of them.
func TestBulkBufferFollowsTheBytes(t *testing.T) {
	const clients = 8
	srv, ev, addr := serveRESP(t, resp.DefaultConfig())
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	header := fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", resp.MaxBulkLen)
	conns := make([]net.Conn, clients)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(header + "x")); err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	bulks := waitBulks(t, srv, ev, func(b []resp.Bulk) bool { return len(b) == clients })
	if len(bulks) != clients {
		t.Fatalf("%d of %d clients are reading their bulk string", len(bulks), clients)
	}
	for _, b := range bulks {
		if b.Cap > b.Got+resp.BulkAhead {
			t.Fatalf("a client that sent %d bytes of a %d-byte value holds a %d-byte buffer, over %d ahead", b.Got, resp.MaxBulkLen, b.Cap, resp.BulkAhead)
		}
	}
	runtime.ReadMemStats(&ms)
	growth := int64(ms.HeapInuse) - int64(before)
	t.Logf("%d clients announcing %d bytes: heap in use grew by %.1f MiB", clients, resp.MaxBulkLen, float64(growth)/(1<<20))
	if growth > clients*2*resp.BulkAhead {
		t.Fatalf("heap in use grew by %d bytes for %d clients, want at most %d", growth, clients, clients*2*resp.BulkAhead)
	}

	// Past BulkAhead: one client sends 5 MiB more, in pieces.
	const more = 5 << 20
	piece := strings.Repeat("y", 64<<10)
	go func() {
		for sent := 0; sent < more; sent += len(piece) {
			if _, err := conns[0].Write([]byte(piece)); err != nil {
				return
			}
		}
	}()
	grown := waitBulks(t, srv, ev, func(b []resp.Bulk) bool {
		for _, x := range b {
			if x.Cap > max(2*x.Got, x.Got+resp.BulkAhead) {
				return true // fails below
			}
			if x.Got >= 4<<20 { // the buffer has doubled twice past BulkAhead
				return true
			}
		}
		return false
	})
	if len(grown) == 0 || slices.MaxFunc(grown, func(a, b resp.Bulk) int { return a.Got - b.Got }).Got < 4<<20 {
		t.Fatalf("after 5 MiB sent, the bulk strings being read are %+v", grown)
	}
	for _, b := range grown {
		if b.Cap > max(2*b.Got, b.Got+resp.BulkAhead) {
			t.Fatalf("%d bytes received into a %d-byte buffer: more than BulkAhead or as much again ahead", b.Got, b.Cap)
		}
	}
}
