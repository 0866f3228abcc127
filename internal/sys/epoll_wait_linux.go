//go:build linux && !arm64 && !loong64 && !riscv64

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// epollWaitNow is epoll_wait(epfd, events, len(events), 0).
func epollWaitNow(epfd int, events []unix.EpollEvent) (uintptr, uintptr, unix.Errno) {
	return unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
}
