package tevent_test

import (
	"testing"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(testutil.CheckFDs(m))
}

// backends runs fn once per backend as a subtest; every test in this package
// goes through it, so the whole suite runs against epoll and poll.
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
