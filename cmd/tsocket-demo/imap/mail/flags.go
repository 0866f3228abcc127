package mail

import (
	"fmt"
	"slices"
	"strings"
)

// The system flags of RFC 3501 section 2.3.2, spelled canonically.
const (
	Seen     = `\Seen`
	Answered = `\Answered`
	Flagged  = `\Flagged`
	Deleted  = `\Deleted`
	Draft    = `\Draft`
	// Recent is per session and never stored; it is here for responses.
	Recent = `\Recent`
)

// SystemFlags are the flags every mailbox accepts, in the order responses
// list them.
var SystemFlags = []string{Answered, Flagged, Deleted, Seen, Draft}

// Flags is a set of stored flags: system flags in canonical spelling,
// keywords as first given, sorted, no two equal in any case (flags are
// case-insensitive).
type Flags []string

// CanonFlag returns a flag's canonical spelling: system flags are matched
// in any case; \Recent and other backslash flags are refused with ErrFlag;
// keywords are kept as they are.
func CanonFlag(f string) (string, error) {
	if !strings.HasPrefix(f, `\`) {
		return f, nil
	}
	for _, s := range SystemFlags {
		if strings.EqualFold(f, s) {
			return s, nil
		}
	}
	return "", fmt.Errorf("%w: %s", ErrFlag, f)
}

// NewFlags builds a set from flags as a client sent them.
func NewFlags(list ...string) (Flags, error) {
	var f Flags
	for _, s := range list {
		c, err := CanonFlag(s)
		if err != nil {
			return nil, err
		}
		if !f.Has(c) {
			f = append(f, c)
		}
	}
	f.sort()
	return f, nil
}

func (f Flags) sort() {
	slices.SortFunc(f, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
}

// Has reports whether flag is set.
func (f Flags) Has(flag string) bool {
	for _, s := range f {
		if strings.EqualFold(s, flag) {
			return true
		}
	}
	return false
}

// Union returns f with g's flags added.
func (f Flags) Union(g Flags) Flags {
	out := slices.Clone(f)
	for _, s := range g {
		if !out.Has(s) {
			out = append(out, s)
		}
	}
	out.sort()
	return out
}

// Minus returns f without g's flags.
func (f Flags) Minus(g Flags) Flags {
	var out Flags
	for _, s := range f {
		if !g.Has(s) {
			out = append(out, s)
		}
	}
	return out
}

// Equal reports whether f and g hold the same flags.
func (f Flags) Equal(g Flags) bool {
	return len(f) == len(g) && len(f.Minus(g)) == 0
}

// Keywords returns the flags that are not system flags.
func (f Flags) Keywords() []string {
	var kw []string
	for _, s := range f {
		if !strings.HasPrefix(s, `\`) {
			kw = append(kw, s)
		}
	}
	return kw
}
