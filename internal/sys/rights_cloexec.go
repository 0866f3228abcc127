//go:build freebsd || linux

package sys

import "golang.org/x/sys/unix"

// recvmsgCloexec is recvmsg(2) with MSG_CMSG_CLOEXEC: descriptors passed
// with SCM_RIGHTS arrive close-on-exec in the same call, so no fork can
// slip in between and leak them to a child.
func recvmsgCloexec(fd int, b, oob []byte) (n, oobn, flags int, err error) {
	n, oobn, flags, _, err = unix.Recvmsg(fd, b, oob, unix.MSG_CMSG_CLOEXEC)
	return n, oobn, flags, err
}
