package sys

import "golang.org/x/sys/unix"

// TCPKeepIdle is the option for the idle time before keep-alive probes:
// TCP_KEEPALIVE on darwin.
const TCPKeepIdle = unix.TCP_KEEPALIVE
