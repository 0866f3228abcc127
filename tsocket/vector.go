package tsocket

// ioVec is a position in a vector of buffers, as the read and write
// engines move through it: iov[idx][off:] is the next byte, and idx ==
// len(iov) means every byte has been moved. The position never rests on
// an empty buffer: advance steps over them.
type ioVec struct {
	iov [][]byte
	idx int
	off int
}

// set starts the position at the first byte of iov.
func (v *ioVec) set(iov [][]byte) {
	v.iov = iov
	v.idx, v.off = advance(iov, 0, 0, 0)
}

// done reports whether every byte has been moved.
func (v *ioVec) done() bool { return v.idx >= len(v.iov) }

// advance moves the position on by n bytes.
func (v *ioVec) advance(n int) { v.idx, v.off = advance(v.iov, v.idx, v.off, n) }

// last reports whether the bytes left are all in the current buffer, cur:
// one read(2) or send(2) does, with no iovec array to build.
func (v *ioVec) last() bool { return v.idx == len(v.iov)-1 }

// cur returns what is left of the current buffer.
func (v *ioVec) cur() []byte { return v.iov[v.idx][v.off:] }

// total returns the byte count of the whole vector.
func (v *ioVec) total() int { return total(v.iov) }

// total is the byte count of a vector.
func total(iov [][]byte) int {
	n := 0
	for _, b := range iov {
		n += len(b)
	}
	return n
}
