package demo

// ReaderGrowth fills a reader with limit as its cap in steps of step bytes,
// as ReadvPDU would, and returns the largest capacity its buffer reached.
func ReaderGrowth(limit, step int) int {
	r := reader{max: limit}
	most := 0
	for len(r.in) < r.max {
		want := min(step, r.max-len(r.in))
		r.reserve(want)
		r.in = r.in[:len(r.in)+want]
		most = max(most, cap(r.in))
	}
	return most
}
