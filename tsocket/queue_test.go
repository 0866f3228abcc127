package tsocket_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
	"github.com/gotevent/gotevent/tsocket"
)

// 200 queued writes of varied sizes, all started at once, arrive whole and
// in order, never interleaved.
func TestWritevQueueOrder(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			q := tqueue.New(ev, "writes")
			var want bytes.Buffer
			done := 0
			for i := range 200 {
				msg := bytes.Repeat([]byte{byte(i)}, 1+(i*7919)%70000)
				hdr := []byte(fmt.Sprintf("<%d:%d>", i, len(msg)))
				want.Write(hdr)
				want.Write(msg)
				tsocket.WritevQueueSend(ev, a, q, [][]byte{hdr, msg}).SetCallback(func(req *tevent.Req[int]) {
					if n, err := tsocket.WritevQueueRecv(req); err != nil || n != len(hdr)+len(msg) {
						t.Errorf("write %d: %d, %v", i, n, err)
					}
					if done++; done == 200 {
						a.Close()
					}
				})
			}
			var got []byte
			buf := make([]byte, 3000)
			var read func(*tevent.Req[struct{}])
			read = func(req *tevent.Req[struct{}]) {
				if req != nil {
					if err := tsocket.ReadvPDURecv(req); err != nil {
						if len(got) < want.Len() {
							t.Errorf("read: %v", err)
						}
						return
					}
					got = append(got, buf...)
				}
				first := true
				tsocket.ReadvPDUSend(ev, b, func(*tsocket.Stream) ([][]byte, error) {
					if !first {
						return nil, nil
					}
					first = false
					n := min(len(buf), want.Len()-len(got))
					if n == 0 {
						n = 1 // wait for EOF
					}
					buf = buf[:n]
					return [][]byte{buf}, nil
				}).SetCallback(read)
			}
			read(nil)
			if err := ev.LoopWait(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want.Bytes()) {
				t.Fatalf("stream differs: got %d bytes, want %d", len(got), want.Len())
			}
		})
	})
}

func TestQueuedDgramAndPDU(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		srv, err := tsocket.UDPSocket(ev, loopback4(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, srv)
		cli, err := tsocket.UDPSocket(ev, loopback4(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, cli)
		q := tqueue.New(ev, "sendto")
		for i := range 3 {
			tsocket.SendToQueueSend(ev, cli, q, []byte{byte(i)}, srv.LocalAddress()).SetCallback(func(req *tevent.Req[int]) {
				if _, err := tsocket.SendToQueueRecv(req); err != nil {
					t.Errorf("sendto %d: %v", i, err)
				}
			})
		}
		for i := range 3 {
			r := tsocket.RecvFromSend(ev, srv)
			poll(t, r)
			data, _, err := tsocket.RecvFromRecv(r)
			if err != nil || len(data) != 1 || data[0] != byte(i) {
				t.Fatalf("datagram %d: %v, %v", i, data, err)
			}
		}

		a, b := unixPair(t, ev)
		rq := tqueue.New(ev, "reads")
		var pdus [3]lenPrefixed
		var got []string
		for i := range pdus {
			tsocket.ReadvPDUQueueSend(ev, b, rq, pdus[i].next).SetCallback(func(req *tevent.Req[struct{}]) {
				if err := tsocket.ReadvPDUQueueRecv(req); err != nil {
					t.Errorf("pdu %d: %v", i, err)
				}
				got = append(got, string(pdus[i].body))
			})
		}
		poll(t, tsocket.WritevSend(ev, a, [][]byte{encode([]string{"one", "two", "three"})}))
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "[one two three]" {
			t.Errorf("PDUs %v", got)
		}
	})
}
