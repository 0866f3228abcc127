//go:build unix

package sys

import "golang.org/x/sys/unix"

// Shutdown is shutdown(2): how is unix.SHUT_RD, unix.SHUT_WR or
// unix.SHUT_RDWR. It shuts down the connection, not the descriptor, which
// stays open until Close; for every descriptor sharing the socket, in
// every process that holds one.
func Shutdown(fd, how int) error { return unix.Shutdown(fd, how) }
