//go:build !race

package tsocket_test

// raceEnabled: see tls_race_test.go.
const raceEnabled = false
