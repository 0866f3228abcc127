// Package sys is the one place where gotevent makes system calls: every
// read, write, socket, accept, poll and epoll call of tevent, tsocket and
// the poller goes through here, so that what differs between kernels and
// architectures is decided once, in files named after the platform they
// serve, and nowhere else.
//
// # Errors
//
// Functions return the bare errno (a unix.Errno) as the kernel gave it;
// the caller names the call (os.NewSyscallError) and adds its own context.
// [Interrupted] and [WouldBlock] hold the retry rules of non-blocking I/O:
// EINTR means make the same call again at once, EAGAIN means wait for
// readiness. No function here retries on its own, and Close is never
// retried: the descriptor is gone whatever close(2) returned.
//
// # Descriptors
//
// [Socket], [Socketpair], [Accept], [Pipe] and [Eventfd] return
// descriptors that are non-blocking and close-on-exec from the start
// (SOCK_NONBLOCK|SOCK_CLOEXEC, accept4, pipe2) where the kernel can do it
// in one call, and under syscall.ForkLock where it cannot (darwin), so that
// no child started by os/exec inherits them. On darwin sockets also get
// SO_NOSIGPIPE, since send has no MSG_NOSIGNAL there; elsewhere [Send],
// [Sendmsg] and [Sendto] pass MSG_NOSIGNAL. Either way a peer that has
// gone away yields EPIPE and never raises SIGPIPE.
//
// # Platforms
//
//   - io_linux.go: read, write, readv, send and sendmsg of non-blocking
//     descriptors with RawSyscall, which keeps the scheduler from handing
//     the P away around calls that cannot block (the file says why; it
//     saved the tsocket servers 15% of their CPU); io_other.go: x/sys/unix's
//     own calls, through the scheduler (and libSystem on darwin).
//   - epoll_wait_linux.go and epoll_pwait_linux.go: [EpollWaitNow] calls
//     epoll_wait, or epoll_pwait on the architectures whose kernels never
//     had epoll_wait (arm64, loong64, riscv64).
//   - sock_cloexec.go (Linux, FreeBSD) and sock_darwin.go: descriptor
//     creation as above.
//   - pending_linux.go, pending_darwin.go, pending_other.go: [PendingBytes].
//   - rights_cloexec.go (Linux, FreeBSD) and rights_darwin.go: the
//     recvmsg of [RecvRights], whose descriptors arrive close-on-exec
//     (MSG_CMSG_CLOEXEC, or FD_CLOEXEC set right after on darwin).
package sys
