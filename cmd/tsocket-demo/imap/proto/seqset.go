package proto

import (
	"strconv"
	"strings"
)

// Range is one element of a sequence set, Lo:Hi as the client wrote it
// (Lo may be above Hi). 0 stands for "*": the largest number in use.
type Range struct{ Lo, Hi uint32 }

// SeqSet is a sequence set or a UID set (RFC 3501 sequence-set).
type SeqSet []Range

// ParseSeqSet parses "1,3:5,7:*".
func ParseSeqSet(s string) (SeqSet, error) {
	if s == "" {
		return nil, syntaxf("Invalid sequence set")
	}
	var set SeqSet
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := seqNumber(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = seqNumber(hi); err != nil {
				return nil, err
			}
		}
		set = append(set, Range{a, b})
	}
	return set, nil
}

func seqNumber(s string) (uint32, error) {
	if s == "*" {
		return 0, nil
	}
	if s == "" || s[0] == '0' {
		return 0, syntaxf("Invalid sequence set")
	}
	n, err := parseNumber(s)
	if err != nil {
		return 0, syntaxf("Invalid sequence set")
	}
	return n, nil
}

// Bounds returns r's numbers in order with "*" replaced by star.
func (r Range) Bounds(star uint32) (lo, hi uint32) {
	lo, hi = r.Lo, r.Hi
	if lo == 0 {
		lo = star
	}
	if hi == 0 {
		hi = star
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// Contains reports whether n is in the set, "*" being star.
func (s SeqSet) Contains(n, star uint32) bool {
	for _, r := range s {
		if lo, hi := r.Bounds(star); lo <= n && n <= hi {
			return true
		}
	}
	return false
}

// Max returns the largest number the set names, "*" being star.
func (s SeqSet) Max(star uint32) uint32 {
	var m uint32
	for _, r := range s {
		_, hi := r.Bounds(star)
		m = max(m, hi)
	}
	return m
}

// String formats the set as the client could have sent it.
func (s SeqSet) String() string {
	var b strings.Builder
	num := func(n uint32) {
		if n == 0 {
			b.WriteByte('*')
		} else {
			b.WriteString(strconv.FormatUint(uint64(n), 10))
		}
	}
	for i, r := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		num(r.Lo)
		if r.Hi != r.Lo {
			b.WriteByte(':')
			num(r.Hi)
		}
	}
	return b.String()
}

// FormatSet writes ascending numbers as a compact set ("1:3,7"), as
// UIDPLUS's APPENDUID and COPYUID want them; the order is kept, so COPYUID's
// two sets stay paired.
func FormatSet(nums []uint32) string {
	var b strings.Builder
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(nums[i]), 10))
		if j > i {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(nums[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}
