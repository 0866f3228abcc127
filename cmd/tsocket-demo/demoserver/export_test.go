package demoserver

// ReaderGrowth fills a reader with limit as its cap in steps of step bytes,
// as reads into its free end would, and returns the largest capacity its buffer reached.
func ReaderGrowth(limit, step int) int {
	r := Reader{max: limit}
	most := 0
	for len(r.in) < r.max {
		want := min(step, r.max-len(r.in))
		r.reserve(want)
		r.in = r.in[:len(r.in)+want]
		most = max(most, cap(r.in))
	}
	return most
}

// ReaderLines feeds chunks to a reader of limit bytes that has a shared
// buffer of sharedSize bytes, the way Read's callback does: each chunk is
// read into the buffer get hands out, whole lines (as nextLine finds them)
// are taken, keep runs, and then the shared buffer is scribbled over, as
// another connection's read would. It returns the lines, and whether the
// reader ever held a buffer of its own with nothing pending.
func ReaderLines(chunks []string, sharedSize, limit int, nextLine func([]byte) ([]byte, int, error)) (lines []string, heldIdle bool) {
	r := NewReader(limit, make([]byte, sharedSize))
	for _, c := range chunks {
		buf := r.get()
		n := copy(buf, c)
		r.filled(buf[:n])
		for {
			line, k, err := nextLine(r.in)
			if err != nil || k == 0 {
				break
			}
			lines = append(lines, string(line))
			r.Consume(k)
		}
		r.keep()
		for i := range r.shared {
			r.shared[i] = 'X'
		}
		if len(r.in) == 0 && r.in != nil {
			heldIdle = true
		}
	}
	return lines, heldIdle
}
