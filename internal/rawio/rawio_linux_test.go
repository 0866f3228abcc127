package rawio_test

import (
	"testing"

	"github.com/gotevent/gotevent/internal/rawio"
	"github.com/gotevent/gotevent/internal/testutil"
	"golang.org/x/sys/unix"
)

func TestEpollWaitNow(t *testing.T) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(epfd)
	a, b := testutil.Socketpair(t)
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(b)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, b, &ev); err != nil {
		t.Fatal(err)
	}
	events := make([]unix.EpollEvent, 4)
	if n, err := rawio.EpollWaitNow(epfd, events); n != 0 || err != nil {
		t.Fatalf("EpollWaitNow with nothing ready = %d, %v", n, err)
	}
	if _, err := unix.Write(a, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if n, err := rawio.EpollWaitNow(epfd, events); n != 1 || err != nil || events[0].Fd != int32(b) {
		t.Fatalf("EpollWaitNow = %d, %v (%+v); want b readable", n, err, events[0])
	}
}
