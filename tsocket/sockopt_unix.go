//go:build unix && !darwin

package tsocket

import "golang.org/x/sys/unix"

// sysTCPKeepIdle is the idle time before keep-alive probes.
const sysTCPKeepIdle = unix.TCP_KEEPIDLE
