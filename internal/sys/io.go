//go:build unix

package sys

import "golang.org/x/sys/unix"

// The ...Blocking calls go through the scheduler (syscall.Syscall) on
// every system, for a descriptor that may be in blocking mode: the runtime
// hands the thread's P to another thread while the call waits.

// ReadBlocking is read(2) of a descriptor that may block.
func ReadBlocking(fd int, b []byte) (int, error) { return unix.Read(fd, b) }

// WriteBlocking is write(2) of a descriptor that may block.
func WriteBlocking(fd int, b []byte) (int, error) { return unix.Write(fd, b) }

// SendBlocking is sendmsg(2) of b on a socket that may block, without an
// address, with MSG_NOSIGNAL where the system has it.
func SendBlocking(fd int, b []byte) (int, error) { return unix.SendmsgN(fd, b, nil, nil, noSignal) }
