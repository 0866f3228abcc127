package tsocket

// BufferSize returns the size of r's buffer, for tests of its memory bound.
func (r *Reader) BufferSize() int { return r.buf.Cap() }
