package tsocket_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Defect 3 of issue 12: a read callback that starts a 4 MiB writev on the
// same stream and Polls it hung, because interest changes made inside the
// stream's handler were only recorded, so the nested loop waited without
// FDWrite. Changes now reach the backend before any wait, nested or not.
func TestNestedPollInsideReadCallback(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		pairs(t, func() *tevent.Context { return newCtx() }, func(t *testing.T, ev *tevent.Context, a, b *tsocket.Stream) {
			big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
			got := make([]byte, len(big))
			peer := tsocket.ReadvSend(ev, b, [][]byte{got})
			var nestedErr error
			wrote := 0
			rd := tsocket.ReadSomeSend(ev, a, make([]byte, 16))
			rd.SetCallback(func(req *tevent.Req[int]) {
				if _, err := tsocket.ReadSomeRecv(req); err != nil {
					nestedErr = err
					return
				}
				w := tsocket.WritevSend(ev, a, [][]byte{big})
				w.SetEndTime(ev.Now().Add(30 * time.Second)) // a hang fails, not blocks
				if nestedErr = w.Poll(); nestedErr != nil {
					return
				}
				wrote, nestedErr = tsocket.WritevRecv(w)
			})
			ping := tsocket.WritevSend(ev, b, [][]byte{[]byte("x")})
			poll(t, ping)
			if _, err := tsocket.WritevRecv(ping); err != nil {
				t.Fatal(err)
			}
			poll(t, rd)
			if nestedErr != nil || wrote != len(big) {
				t.Fatalf("nested writev: %d bytes, %v; want %d, nil", wrote, nestedErr, len(big))
			}
			poll(t, peer)
			if n, err := tsocket.ReadvRecv(peer); n != len(big) || err != nil || !bytes.Equal(got, big) {
				t.Fatalf("peer read %d, %v (equal %v)", n, err, bytes.Equal(got, big))
			}
		})
	})
}

// Defect 7 of issue 12: of 20 ConnectSends in flight at Close, 19 stayed
// in progress and kept their sockets open. They now end with ErrClosed
// and their sockets are closed by the teardown.
func TestConnectsInFlightAtClose(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		testutil.NoFDLeak(t)
		ev := newCtx()
		l, err := tsocket.Listen(ev, loopback4(t))
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, l)
		const n = 20
		reqs := make([]*tevent.Req[*tsocket.Stream], n)
		for i := range reqs {
			reqs[i] = tsocket.ConnectSend(ev, nil, l.Addr())
			reqs[i].SetCallback(func(*tevent.Req[*tsocket.Stream]) { t.Error("connect called back after Close") })
		}
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		for i, req := range reqs {
			s, err := tsocket.ConnectRecv(req)
			if s != nil || !errors.Is(err, tevent.ErrClosed) {
				t.Fatalf("connect %d after Close: %v, %v; want nil, ErrClosed", i, s, err)
			}
		}
	})
}
