package tests

import (
	"fmt"
	"strings"
	"testing"
)

// Large values (issue 13): the value buffers a loop reuses are never the
// ones a reply still waits to be written from.

// genValue is generation gen of key j's value, size bytes that say which
// they are all along, so that a reply made of two values is caught.
func genValue(j, gen, size int) string {
	unit := fmt.Sprintf("k%d-g%03d|", j, gen)
	return strings.Repeat(unit, size/len(unit)+1)[:size]
}

// While a client that does not read has GET replies of large values
// waiting in its Writer, another overwrites those keys again and again:
// the buffers the store lets go of are reused for the new values, but
// never one a waiting reply is written from, nor one another loop holds.
// Every reply the first client reads is one whole value of its key.
func TestRESPReusedBuffersAreNotShared(t *testing.T) {
	const size, keys, gens = 256 << 10, 8, 12
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d loops", loops), func(t *testing.T) {
			_, addr := startRESPLoops(t, loops)
			reader, writer := dialRESP(t, addr), dialRESP(t, addr)
			for j := range keys {
				if got := writer.do("SET", fmt.Sprint("k", j), genValue(j, 0, size)); got != "+OK" {
					t.Fatalf("SET = %q", got)
				}
			}
			// 4 GETs of each key, 8 MiB of replies past a 1 MiB soft
			// limit: most wait, in the Writer or unread.
			var gets strings.Builder
			for range 4 {
				for j := range keys {
					gets.WriteString(respCmd("GET", fmt.Sprint("k", j)))
				}
			}
			reader.send(gets.String())
			if got := writer.do("PING"); got != "+PONG" {
				t.Fatalf("PING = %q", got)
			}
			for gen := 1; gen < gens; gen++ {
				for j := range keys {
					if got := writer.do("SET", fmt.Sprint("k", j), genValue(j, gen, size)); got != "+OK" {
						t.Fatalf("SET = %q", got)
					}
				}
			}
			for i := range 4 * keys {
				j := i % keys
				got := reader.reply()
				ok := false
				for gen := range gens {
					if got == "$"+genValue(j, gen, size) {
						ok = true
						break
					}
				}
				if !ok {
					t.Fatalf("GET k%d (reply %d): %.40q..., not one value of k%d", j, i, got, j)
				}
			}
		})
	}
}
