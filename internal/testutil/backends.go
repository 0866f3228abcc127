package testutil

import (
	"testing"

	"github.com/gotevent/gotevent/internal/poller"
)

// Backends runs fn once per poller backend ("epoll", "poll") as a subtest
// named after it, checking each for fd leaks, so a suite runs against every
// backend alike. fn gets the backend's name and makes its own context with
// it (tevent.WithBackend): testutil lies below tevent and never imports it.
func Backends(t *testing.T, fn func(t *testing.T, backend string)) {
	t.Helper()
	for _, b := range poller.Backends() {
		t.Run(b, func(t *testing.T) {
			NoFDLeak(t)
			fn(t, b)
		})
	}
}
