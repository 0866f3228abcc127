package tqueue_test

import (
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(testutil.CheckFDs(m)) }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// backends runs fn once per backend (testutil.Backends); newCtx makes a
// context on that backend, with opts added, closed at cleanup.
func backends(t *testing.T, fn func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context)) {
	t.Helper()
	testutil.Backends(t, func(t *testing.T, backend string) {
		fn(t, func(opts ...tevent.Option) *tevent.Context {
			t.Helper()
			return newCtxOn(t, backend, opts...)
		})
	})
}

// newCtxOn returns a context on backend, with opts added, closed at
// cleanup.
func newCtxOn(t *testing.T, backend string, opts ...tevent.Option) *tevent.Context {
	t.Helper()
	ev, err := tevent.NewContext(append([]tevent.Option{tevent.WithBackend(backend)}, opts...)...)
	if err != nil {
		t.Fatalf("NewContext(%s): %v", backend, err)
	}
	t.Cleanup(func() {
		if err := ev.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ev
}
