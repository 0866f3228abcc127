//go:build unix

package sys

import "golang.org/x/sys/unix"

// Descriptor passing over unix stream sockets: sendmsg and recvmsg with
// SCM_RIGHTS control messages.

// RightsSpace is the size of the control buffer a recvmsg needs to take n
// descriptors (CMSG_SPACE of n C ints), 0 for n <= 0. The kernel aligns
// it up, so on 64-bit systems a buffer for an odd n has room for one
// more: count what [RecvRights] returns rather than trust the size.
func RightsSpace(n int) int {
	if n <= 0 {
		return 0
	}
	return unix.CmsgSpace(n * 4) // a descriptor is a C int
}

// SendRights is sendmsg(2) of bufs with fds passed along in one
// SCM_RIGHTS message, with MSG_NOSIGNAL where the system has it. On a
// stream socket the descriptors travel with the first byte the call
// sends: a call that sent anything has sent them all, one that failed
// (EAGAIN included) has sent none. bufs must hold at least one byte, since
// a stream carries control data only along with data. The descriptors
// stay the caller's: the kernel takes references of its own.
func SendRights(fd int, bufs [][]byte, fds []int) (int, error) {
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	return unix.SendmsgBuffers(fd, bufs, oob, nil, noSignal)
}

// RecvRights is one recvmsg(2) of at most len(b) bytes, with oob (of
// [RightsSpace] bytes) for descriptors passed with SCM_RIGHTS. It returns
// the bytes read, the descriptors that arrived, close-on-exec, and whether
// the control data was truncated (MSG_CTRUNC: more were sent than oob
// had room for, and the kernel closed the rest). Whatever fds holds is the
// caller's to close, on an error too: a control message that does not
// parse leaves the descriptors of those before it. Control messages other
// than SCM_RIGHTS are skipped. fd must be non-blocking (see
// recvmsgCloexec on darwin).
func RecvRights(fd int, b, oob []byte) (n int, fds []int, truncated bool, err error) {
	n, oobn, flags, err := recvmsgCloexec(fd, b, oob)
	if err != nil {
		return 0, nil, false, err
	}
	fds, err = parseRights(oob[:oobn])
	return n, fds, flags&unix.MSG_CTRUNC != 0, err
}

// parseRights returns the descriptors of the SCM_RIGHTS messages in oob,
// and those parsed before a message that does not parse, with its error.
func parseRights(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Level != unix.SOL_SOCKET || m.Header.Type != unix.SCM_RIGHTS {
			continue
		}
		got, err := unix.ParseUnixRights(m)
		if err != nil {
			return fds, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}
