package sys

import "golang.org/x/sys/unix"

// Dup returns a close-on-exec duplicate of fd on the lowest free number
// (fcntl F_DUPFD_CLOEXEC: no fork can slip in and leak it to a child).
func Dup(fd int) (int, error) { return unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0) }
