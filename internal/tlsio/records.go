package tlsio

// recordHeaderLen is the size of a TLS record's header: type, version,
// length (RFC 8446, 5.1).
const recordHeaderLen = 5

// recordScan follows TLS record framing across the bytes of a stream, fed
// in pieces of any size.
type recordScan struct {
	hdr  int // bytes of the current record's header seen
	left int // the record's length while its header is read, then the bytes of it still to come
}

// scan takes the next bytes of the stream and returns how many records
// they complete.
func (r *recordScan) scan(b []byte) (whole int) {
	for len(b) > 0 {
		if r.hdr < recordHeaderLen {
			k := min(recordHeaderLen-r.hdr, len(b))
			for _, c := range b[:k] {
				if r.hdr >= 3 { // the length, big-endian
					r.left = r.left<<8 | int(c)
				}
				r.hdr++
			}
			b = b[k:]
			if r.hdr < recordHeaderLen {
				return whole
			}
		}
		k := min(r.left, len(b))
		r.left -= k
		b = b[k:]
		if r.left == 0 {
			whole++
			r.hdr = 0
		}
	}
	return whole
}
