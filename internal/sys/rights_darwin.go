//go:build darwin

package sys

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// recvmsgCloexec is recvmsg(2), then every descriptor that arrived with
// SCM_RIGHTS marked close-on-exec: darwin has no MSG_CMSG_CLOEXEC, and Go's
// net does the same there (setReadMsgCloseOnExec in
// net/unixsock_readmsg_cloexec.go). Unlike net, syscall.ForkLock is held
// for reading across both calls, as for every descriptor made here
// (sock_darwin.go), so that os/exec never starts a child in between. A
// fork made other than through syscall.ForkExec can still come between
// them and leak the descriptors: the race net has there, narrowed to that.
// fd must be non-blocking, so that the lock is held for one short call.
func recvmsgCloexec(fd int, b, oob []byte) (n, oobn, flags int, err error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	n, oobn, flags, _, err = unix.Recvmsg(fd, b, oob, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	fds, _ := parseRights(oob[:oobn]) // RecvRights parses again and reports the error
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
	return n, oobn, flags, nil
}
