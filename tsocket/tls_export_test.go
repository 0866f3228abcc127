package tsocket

// SetTLSPoller turns the handshakes' use of Go's poller on or off and
// returns the setting before; off, they run on the crossings to the loop
// that a handshake falls back on when it cannot duplicate its descriptor.
func SetTLSPoller(on bool) bool {
	old := tlsPoller
	tlsPoller = on
	return old
}
