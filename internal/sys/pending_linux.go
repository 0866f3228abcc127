//go:build linux

package sys

import "golang.org/x/sys/unix"

// PendingBytesCall is the system call PendingBytes makes, for naming its
// errors.
const PendingBytesCall = "ioctl"

// PendingBytes returns how many bytes can be read from a socket without
// waiting (ioctl SIOCINQ, Linux's FIONREAD): for a datagram socket, the
// size of the next datagram.
func PendingBytes(fd int) (int, error) { return unix.IoctlGetInt(fd, unix.SIOCINQ) }
