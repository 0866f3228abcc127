package tsocket

import (
	"testing"
	"unsafe"
)

// A server holds a Stream per connection, idle ones included: keep it in
// the 320-byte size class (the idle-memory target of the benchmark suite
// counts on it).
func TestStreamSize(t *testing.T) {
	if n := unsafe.Sizeof(Stream{}); n > 320 {
		t.Errorf("Stream is %d bytes; keep it at 320 or less", n)
	}
}
