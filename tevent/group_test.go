package tevent_test

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

func TestGroupRunsAndStops(t *testing.T) {
	for _, b := range tevent.Backends() {
		t.Run(b, func(t *testing.T) {
			testutil.NoFDLeak(t)
			g, err := tevent.NewGroup(3, tevent.WithBackend(b))
			if err != nil {
				t.Fatal(err)
			}
			var served atomic.Int32
			done := make(chan struct{}, 3)
			// Each loop waits on its own fd; a byte written from here is
			// handled on that loop's goroutine.
			// Made here: t.Fatal must not run on a loop goroutine.
			var readers, writers [3]int
			for i := range readers {
				readers[i], writers[i] = testutil.Socketpair(t)
			}
			if err := g.Start(func(i int, ev *tevent.Context) error {
				_, err := ev.AddFD(readers[i], tevent.FDRead, func(fde *tevent.FD, _ tevent.Flags) {
					var buf [1]byte
					unix.Read(fde.Fd(), buf[:])
					served.Add(1)
					done <- struct{}{}
				})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			for _, w := range writers {
				unix.Write(w, []byte{1})
			}
			for range 3 {
				<-done
			}
			if err := g.Stop(); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			if err := g.Stop(); err != nil {
				t.Fatalf("second Stop: %v", err)
			}
			if served.Load() != 3 {
				t.Fatalf("served %d", served.Load())
			}
		})
	}
}

func TestGroupSetupFailureStopsAll(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		boom := errors.New("boom")
		g, err := tevent.NewGroup(2)
		if err != nil {
			t.Fatal(err)
		}
		err = g.Start(func(i int, ev *tevent.Context) error {
			if i == 1 {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Start = %v, want the setup error", err)
		}
		if _, err := tevent.NewGroup(0); err == nil {
			t.Fatal("NewGroup(0) succeeded")
		}
	})
}
