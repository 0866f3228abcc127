package tsocket_test

import (
	"runtime"
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// BenchmarkIdleTLSMemory reports the Go heap an idle TLS stream holds
// after its handshake (no request in flight): the server side of n
// handshaken pairs, measured as the heap growth over n, with the client
// side subtracted by measuring plain pairs the same way. It is a
// benchmark, not a test, because the figure is a measurement to report
// (docs/performance.md), not a property to assert.
func BenchmarkIdleTLSMemory(b *testing.B) {
	const n = 200
	cfg := testutil.TLS(b)
	for range b.N {
		ev, err := tevent.NewContext()
		if err != nil {
			b.Fatal(err)
		}
		var keep []*tsocket.Stream
		heap := func() uint64 {
			runtime.GC()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return ms.HeapInuse
		}
		before := heap()
		for range n {
			a, c, err := tsocket.Socketpair(ev)
			if err != nil {
				b.Fatal(err)
			}
			keep = append(keep, a, c)
		}
		plain := heap()
		var tls []*tsocket.Stream
		for i := 0; i < len(keep); i += 2 {
			creq := tsocket.TLSClientSend(ev, keep[i], cfg.Client)
			sreq := tsocket.TLSServerSend(ev, keep[i+1], cfg.Server)
			if err := creq.Poll(); err != nil {
				b.Fatal(err)
			}
			if err := sreq.Poll(); err != nil {
				b.Fatal(err)
			}
			cs, err1 := tsocket.TLSClientRecv(creq)
			ss, err2 := tsocket.TLSServerRecv(sreq)
			if err1 != nil || err2 != nil {
				b.Fatal(err1, err2)
			}
			tls = append(tls, cs, ss)
		}
		after := heap()
		b.ReportMetric(float64(plain-before)/float64(2*n), "B/plain-stream")
		b.ReportMetric(float64(after-plain)/float64(2*n), "B/TLS-stream-extra")
		for _, s := range tls {
			s.Close()
		}
		ev.Close()
		runtime.KeepAlive(keep)
	}
}
