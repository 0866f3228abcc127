// Package teventtest runs tests against every tevent backend, as
// net/http/httptest helps test HTTP code: the tests of tevent, tqueue and
// tsocket use it, and so may tests of code built on them.
package teventtest

import (
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
)

// Backends runs fn once per backend as a subtest, checking each for
// descriptor leaks; newCtx makes a context on that backend, with opts
// added, closed at cleanup.
func Backends(t *testing.T, fn func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context)) {
	t.Helper()
	testutil.Backends(t, func(t *testing.T, backend string) {
		fn(t, func(opts ...tevent.Option) *tevent.Context {
			t.Helper()
			return NewContext(t, backend, opts...)
		})
	})
}

// NewContext returns a context on backend, with opts added, closed at
// cleanup; a failure to close is a test error.
func NewContext(t testing.TB, backend string, opts ...tevent.Option) *tevent.Context {
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
