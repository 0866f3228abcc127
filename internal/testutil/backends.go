package testutil

import (
	"testing"

	"github.com/gotevent/gotevent/tevent"
)

// Backends runs fn once per tevent backend as a subtest, checking each for
// fd leaks, so a suite runs against epoll and poll alike. newCtx makes a
// context on that backend (with opts added), closed at cleanup.
func Backends(t *testing.T, fn func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context)) {
	t.Helper()
	for _, b := range tevent.Backends() {
		t.Run(b, func(t *testing.T) {
			NoFDLeak(t)
			fn(t, func(opts ...tevent.Option) *tevent.Context {
				t.Helper()
				ev, err := tevent.NewContext(append([]tevent.Option{tevent.WithBackend(b)}, opts...)...)
				if err != nil {
					t.Fatalf("NewContext(%s): %v", b, err)
				}
				t.Cleanup(func() {
					if err := ev.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				})
				return ev
			})
		})
	}
}
