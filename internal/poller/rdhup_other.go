//go:build unix && !linux

package poller

const pollRDHup = 0

// Default is the backend New uses for an empty name.
const Default = "poll"

// Backends lists the backends this platform offers, default first.
func Backends() []string { return []string{"poll"} }

func newEpoll() (Poller, error) {
	return nil, ErrUnknownBackend
}
