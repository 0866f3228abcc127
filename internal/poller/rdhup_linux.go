//go:build linux

package poller

import "golang.org/x/sys/unix"

const pollRDHup = unix.POLLRDHUP
