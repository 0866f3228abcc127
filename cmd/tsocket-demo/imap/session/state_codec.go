package session

import (
	"encoding/binary"
	"fmt"
)

// stateMagic starts a marshalled State; the last byte is the version.
var stateMagic = []byte("IMAPST\x00\x01")

// MarshalBinary encodes st compactly: varints, and the UID lists as runs
// (a mailbox of 10,000 contiguous UIDs takes a few bytes).
func (st *State) MarshalBinary() ([]byte, error) {
	b := append([]byte(nil), stateMagic...)
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	var flags uint64
	if st.TLS {
		flags |= 1
	}
	if st.ReadOnly {
		flags |= 2
	}
	str(st.User)
	str(st.Mailbox)
	str(st.Tag)
	b = binary.AppendUvarint(b, flags)
	for _, n := range []uint64{uint64(st.UIDValidity), st.Epoch, st.ModSeq, st.ExpungeSeq} {
		b = binary.AppendUvarint(b, n)
	}
	b = appendRuns(b, st.UIDs)
	b = appendRuns(b, st.Recent)
	str(string(st.Input))
	return b, nil
}

// appendRuns writes ascending numbers as (gap, length) pairs.
func appendRuns(b []byte, nums []uint32) []byte {
	var runs [][2]uint32
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		runs = append(runs, [2]uint32{nums[i], uint32(j - i + 1)})
		i = j + 1
	}
	b = binary.AppendUvarint(b, uint64(len(runs)))
	var prev uint32
	for _, r := range runs {
		b = binary.AppendUvarint(b, uint64(r[0]-prev))
		b = binary.AppendUvarint(b, uint64(r[1]))
		prev = r[0] + r[1] - 1
	}
	return b
}

// decoder reads what MarshalBinary wrote, failing once on any fault.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uint(max uint64) uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > max {
		d.err = fmt.Errorf("%w: bad number", ErrStaleState)
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) str() string {
	n := d.uint(1 << 32)
	if d.err == nil && n > uint64(len(d.b)) {
		d.err = fmt.Errorf("%w: truncated", ErrStaleState)
	}
	if d.err != nil {
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// runs reads a run list, refusing runs out of order, past 32 bits, or
// expanding past limit numbers.
func (d *decoder) runs(limit int) []uint32 {
	count := d.uint(uint64(len(d.b)))
	var out []uint32
	var prev uint64
	for i := uint64(0); i < count && d.err == nil; i++ {
		start := prev + d.uint(1<<32)
		n := d.uint(1 << 32)
		if d.err != nil {
			return nil
		}
		if n == 0 || start <= prev || start+n-1 > 1<<32-1 || len(out)+int(n) > limit {
			d.err = fmt.Errorf("%w: bad UID run", ErrStaleState)
			return nil
		}
		for u := start; u < start+n; u++ {
			out = append(out, uint32(u))
		}
		prev = start + n - 1
	}
	return out
}

// MaxStateUIDs bounds the messages a decoded State may list.
const MaxStateUIDs = 1 << 22

// UnmarshalBinary decodes what MarshalBinary wrote; anything else is
// ErrStaleState.
func (st *State) UnmarshalBinary(data []byte) error {
	if len(data) < len(stateMagic) || string(data[:len(stateMagic)]) != string(stateMagic) {
		return fmt.Errorf("%w: not a session state", ErrStaleState)
	}
	d := &decoder{b: data[len(stateMagic):]}
	var s State
	s.User, s.Mailbox, s.Tag = d.str(), d.str(), d.str()
	flags := d.uint(3)
	s.TLS, s.ReadOnly = flags&1 != 0, flags&2 != 0
	s.UIDValidity = uint32(d.uint(1<<32 - 1))
	s.Epoch, s.ModSeq, s.ExpungeSeq = d.uint(1<<64-1), d.uint(1<<64-1), d.uint(1<<64-1)
	s.UIDs = d.runs(MaxStateUIDs)
	s.Recent = d.runs(MaxStateUIDs)
	if in := d.str(); in != "" {
		s.Input = []byte(in)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w: trailing bytes", ErrStaleState)
	}
	if d.err != nil {
		return d.err
	}
	*st = s
	return nil
}
