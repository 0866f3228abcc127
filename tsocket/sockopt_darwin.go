//go:build darwin

package tsocket

import "golang.org/x/sys/unix"

// sysTCPKeepIdle is the idle time before keep-alive probes: TCP_KEEPALIVE
// on darwin.
const sysTCPKeepIdle = unix.TCP_KEEPALIVE
