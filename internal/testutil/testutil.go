// Package testutil holds helpers shared by the project's tests: a TestMain
// wrapper that fails a package whose tests leave descriptors open, and
// small socket helpers. It is imported only from _test.go files.
package testutil

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// M is what goleak.VerifyTestMain accepts.
type M interface{ Run() int }

type fdCheck struct{ m M }

// CheckFDs wraps m so that Run fails when the package's tests end with more
// open descriptors than they started with. Use as
//
//	goleak.VerifyTestMain(testutil.CheckFDs(m))
func CheckFDs(m M) M { return fdCheck{m} }

func (c fdCheck) Run() int {
	// The runtime opens its own poller (an epoll fd and an eventfd) the first
	// time a timer is armed; do that now so it is not counted as a leak.
	time.AfterFunc(time.Hour, func() {}).Stop()
	before := OpenFDs()
	code := c.m.Run()
	if after := OpenFDs(); code == 0 && after > before {
		fmt.Fprintf(os.Stderr, "testutil: %d descriptors open after the tests, %d before: a test leaks fds\n", after, before)
		ents, _ := os.ReadDir("/proc/self/fd")
		for _, e := range ents {
			l, _ := os.Readlink("/proc/self/fd/" + e.Name())
			fmt.Fprintf(os.Stderr, "  fd %s -> %s\n", e.Name(), l)
		}
		return 1
	}
	return code
}

// OpenFDs counts this process's open descriptors (-1 if it cannot tell).
func OpenFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents) - 1 // the directory being read
}

// NoFDLeak fails t at cleanup if the test left more descriptors open than
// when it called NoFDLeak.
func NoFDLeak(t testing.TB) {
	t.Helper()
	before := OpenFDs()
	t.Cleanup(func() {
		if after := OpenFDs(); after > before {
			t.Errorf("descriptor leak: %d open after the test, %d before", after, before)
		}
	})
}

// Socketpair returns a connected, non-blocking, close-on-exec AF_UNIX stream
// pair closed at cleanup. A test may close either end early: cleanup closes
// an fd number only while it still refers to the socket made here, so a
// number reused by a later descriptor is never closed by mistake.
func Socketpair(t testing.TB) (int, int) {
	t.Helper()
	fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	for _, fd := range fds {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			t.Fatalf("fstat: %v", err)
		}
		t.Cleanup(func() {
			var now unix.Stat_t
			if unix.Fstat(fd, &now) == nil && now.Dev == st.Dev && now.Ino == st.Ino {
				unix.Close(fd)
			}
		})
	}
	return fds[0], fds[1]
}

// SetRlim sets a field of unix.Rlimit to n: the fields are uint64 on Linux
// and darwin but int64 on FreeBSD.
func SetRlim[T ~int64 | ~uint64](field *T, n int) { *field = T(n) }
