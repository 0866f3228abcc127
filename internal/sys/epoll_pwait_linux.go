//go:build linux && (arm64 || loong64 || riscv64)

package sys

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// These architectures came after epoll_pwait and their kernels never had
// epoll_wait (as runtime/netpoll_epoll.go and gnet's
// syscall_epoll_riscv64_arm64_linux.go know): a nil signal mask makes
// epoll_pwait the same call.

// epollWaitNow is epoll_pwait(epfd, events, len(events), 0, NULL).
func epollWaitNow(epfd int, events []unix.EpollEvent) (uintptr, uintptr, unix.Errno) {
	return unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
}
