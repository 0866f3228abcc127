package tlsio

import (
	"testing"
)

// record returns a TLS record header and body of n bytes.
func record(n int) []byte {
	b := []byte{23, 3, 3, byte(n >> 8), byte(n)}
	for i := range n {
		b = append(b, byte(i))
	}
	return b
}

// recordScan counts the records a stream completes, however it is cut:
// headers split anywhere, empty records, records of 64 KiB less one.
func TestRecordScan(t *testing.T) {
	var stream []byte
	sizes := []int{0, 1, 300, 0, 16401, 65535, 2}
	for _, n := range sizes {
		stream = append(stream, record(n)...)
	}
	for _, piece := range []int{1, 2, 3, 4, 5, 6, 7, 511, 4096, len(stream)} {
		var r recordScan
		whole := 0
		for b := stream; len(b) > 0; {
			k := min(piece, len(b))
			whole += r.scan(b[:k])
			b = b[k:]
		}
		if whole != len(sizes) || r.hdr != 0 || r.left != 0 {
			t.Errorf("pieces of %d: %d records, state %+v, want %d and a record boundary", piece, whole, r, len(sizes))
		}
	}
	// Cut inside the header and inside the body, the count comes when the
	// last byte does.
	var r recordScan
	rec := record(10)
	for i, b := range rec {
		got := r.scan([]byte{b})
		if want := map[bool]int{true: 1}[i == len(rec)-1]; got != want {
			t.Fatalf("byte %d of %d: %d records, want %d", i, len(rec), got, want)
		}
	}
	if got := r.scan(nil); got != 0 {
		t.Fatalf("nothing completes %d records", got)
	}
}

// HoldsInput says what a shim in its direct mode counted: more than one
// record completed since crypto/tls last read, or bytes of its own.
func TestShimHoldsInput(t *testing.T) {
	sh := NewShim(-1, nil, nil, func() {})
	two := append(record(3), record(4)...)
	sh.Deliver(append(two, record(5)[:2]...), nil)
	b := make([]byte, len(two)+2)
	if n, err := sh.Read(b); n != len(b) || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if !sh.HoldsInput() {
		t.Fatal("two whole records handed over: HoldsInput false")
	}
	sh.Deliver(record(5)[2:], nil)
	if !sh.HoldsInput() {
		t.Fatal("bytes not handed over yet: HoldsInput false")
	}
	if n, err := sh.Read(b); n != 8 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if sh.HoldsInput() {
		t.Fatal("one record completed since the last Read: HoldsInput true")
	}
}
