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

// backends runs fn once per backend as a subtest, so every test that uses a
// context runs against epoll and poll. newCtx makes a context on that
// backend, closed at cleanup.
func backends(t *testing.T, fn func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context)) {
	t.Helper()
	for _, b := range tevent.Backends() {
		t.Run(b, func(t *testing.T) {
			testutil.NoFDLeak(t)
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
