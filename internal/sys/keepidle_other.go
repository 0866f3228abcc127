//go:build unix && !darwin

package sys

import "golang.org/x/sys/unix"

// TCPKeepIdle is the option for the idle time before keep-alive probes.
const TCPKeepIdle = unix.TCP_KEEPIDLE
