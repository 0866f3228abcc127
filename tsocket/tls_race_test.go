//go:build race

package tsocket_test

// raceEnabled is set under the race detector, which makes sync.Pool drop
// a share of what it is given (sync/pool.go): crypto/tls's pooled record
// buffers are then allocated again now and then, so allocation counts
// that rest on them are bounds with room for that.
const raceEnabled = true
