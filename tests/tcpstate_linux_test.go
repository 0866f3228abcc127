package tests

import (
	"testing"

	"golang.org/x/sys/unix"
)

// acceptQueue returns the length of a listening TCP socket's accept queue:
// TCP_INFO's unacked, for a listener.
func acceptQueue(fd int) (int, bool) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, false
	}
	return int(info.Unacked), true
}

// checkCloseWait fails t unless the TCP socket fd is in CLOSE_WAIT, as
// TCP_INFO reports it.
func checkCloseWait(t *testing.T, fd int) {
	t.Helper()
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		t.Fatal(err)
	}
	if info.State != unix.BPF_TCP_CLOSE_WAIT {
		t.Fatalf("TCP state %d, want CLOSE_WAIT (%d)", info.State, unix.BPF_TCP_CLOSE_WAIT)
	}
}
