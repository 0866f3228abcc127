package sys_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"golang.org/x/sys/unix"
)

func TestEpollWaitNow(t *testing.T) {
	epfd, err := sys.EpollCreate()
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close(epfd)
	a, b := testutil.Socketpair(t)
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(b)}
	if err := sys.EpollCtl(epfd, unix.EPOLL_CTL_ADD, b, &ev); err != nil {
		t.Fatal(err)
	}
	events := make([]unix.EpollEvent, 4)
	if n, err := sys.EpollWaitNow(epfd, events); n != 0 || err != nil {
		t.Fatalf("EpollWaitNow with nothing ready = %d, %v", n, err)
	}
	if _, err := sys.Write(a, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if n, err := sys.EpollWaitNow(epfd, events); n != 1 || err != nil || events[0].Fd != int32(b) {
		t.Fatalf("EpollWaitNow = %d, %v (%+v); want b readable", n, err, events[0])
	}
	if n, err := sys.EpollWait(epfd, events, -1); n != 1 || err != nil || events[0].Fd != int32(b) {
		t.Fatalf("EpollWait = %d, %v (%+v); want b readable", n, err, events[0])
	}
}

// A number past the int32 of struct epoll_event is refused, not truncated
// into the number of the socket it shares its low bits with.
func TestEpollCtlRefusesWideFd(t *testing.T) {
	if strconv.IntSize == 32 {
		t.Skip("int is 32 bits wide: no such number")
	}
	epfd, err := sys.EpollCreate()
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close(epfd)
	a, _ := testutil.Socketpair(t)
	wide := int(uint64(a) + 1<<32)
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	if err := sys.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wide, &ev); !errors.Is(err, unix.EBADF) {
		t.Fatalf("EpollCtl ADD of %d: %v, want EBADF", wide, err)
	}
	// a itself was not registered by it.
	if err := sys.EpollCtl(epfd, unix.EPOLL_CTL_DEL, a, nil); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("EpollCtl DEL of %d: %v, want ENOENT (never added)", a, err)
	}
}
