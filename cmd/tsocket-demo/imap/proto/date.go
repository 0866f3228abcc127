package proto

import (
	"strings"
	"time"
)

// Layouts of RFC 3501's date and date-time.
const (
	dateLayout     = "2-Jan-2006"
	dateTimeLayout = "_2-Jan-2006 15:04:05 -0700"
	// DateTimeFormat is how INTERNALDATE is written (date-day-fixed).
	DateTimeFormat = "02-Jan-2006 15:04:05 -0700"
)

// ParseDate parses a SEARCH date ("1-Feb-1994"), month in any case, as
// midnight UTC: searches compare calendar dates only.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, monthCase(s, 0))
	if err != nil {
		return time.Time{}, syntaxf("Invalid date")
	}
	return t, nil
}

// ParseDateTime parses APPEND's date-time ("17-Jul-1996 02:44:25 -0700";
// the day may be one digit, space-padded or not).
func ParseDateTime(s string) (time.Time, error) {
	if len(s) > 1 && s[1] == '-' {
		s = " " + s
	}
	t, err := time.Parse(dateTimeLayout, monthCase(s, 3))
	if err != nil {
		return time.Time{}, syntaxf("Invalid date-time")
	}
	return t, nil
}

// monthCase writes the month after the first '-' at or after from as Go's
// layout spells it ("Jan"), since IMAP months are case-insensitive.
func monthCase(s string, from int) string {
	i := strings.IndexByte(s[min(from, len(s)):], '-')
	if i < 0 {
		return s
	}
	i += min(from, len(s)) + 1
	if i+3 > len(s) {
		return s
	}
	m := s[i : i+3]
	return s[:i] + strings.ToUpper(m[:1]) + strings.ToLower(m[1:]) + s[i+3:]
}
