package proto

import (
	"strings"
	"time"
)

// SearchKey is one node of a SEARCH query. Op is upper-cased and says
// which other fields matter:
//
//   - AND (a parenthesised group, or the whole query): Sub, all of them
//   - OR: Sub[0] or Sub[1]; NOT: not Sub[0]
//   - ALL, ANSWERED, DELETED, DRAFT, FLAGGED, NEW, OLD, RECENT, SEEN and
//     their UN- forms: no argument
//   - KEYWORD, UNKEYWORD: Value is the flag
//   - BCC, BODY, CC, FROM, SUBJECT, TEXT, TO: Value is the string
//   - HEADER: Field and Value
//   - BEFORE, ON, SINCE, SENTBEFORE, SENTON, SENTSINCE: Date (midnight UTC)
//   - LARGER, SMALLER: Size
//   - UID: Set of UIDs; SEQ (a bare sequence set): Set of sequence numbers
type SearchKey struct {
	Op    string
	Field string
	Value string
	Date  time.Time
	Size  uint32
	Set   SeqSet
	Sub   []SearchKey
}

// MaxSearchDepth bounds the nesting of NOT, OR and groups, so a query
// cannot make the matcher recurse without bound.
const MaxSearchDepth = 64

var searchFlags = map[string]bool{
	"ALL": true, "ANSWERED": true, "DELETED": true, "DRAFT": true,
	"FLAGGED": true, "NEW": true, "OLD": true, "RECENT": true, "SEEN": true,
	"UNANSWERED": true, "UNDELETED": true, "UNDRAFT": true,
	"UNFLAGGED": true, "UNSEEN": true,
}

var searchStrings = map[string]bool{
	"BCC": true, "BODY": true, "CC": true, "FROM": true, "SUBJECT": true,
	"TEXT": true, "TO": true, "KEYWORD": true, "UNKEYWORD": true,
}

var searchDates = map[string]bool{
	"BEFORE": true, "ON": true, "SINCE": true,
	"SENTBEFORE": true, "SENTON": true, "SENTSINCE": true,
}

// ParseSearch consumes SEARCH's arguments: ["CHARSET" SP astring] SP
// 1*search-key. It returns the charset ("" when none was given) and the
// query as one AND node.
func ParseSearch(c *Cursor) (charset string, key SearchKey, err error) {
	if a, ok := c.Peek(); ok && a.Kind == AtomArg && strings.EqualFold(a.Str, "CHARSET") {
		c.Next()
		if charset, err = c.AString(); err != nil {
			return "", SearchKey{}, err
		}
	}
	key = SearchKey{Op: "AND"}
	for !c.Done() {
		k, err := searchKey(c, 0)
		if err != nil {
			return "", SearchKey{}, err
		}
		key.Sub = append(key.Sub, k)
	}
	if len(key.Sub) == 0 {
		return "", SearchKey{}, syntaxf("Missing search key")
	}
	return charset, key, nil
}

func searchKey(c *Cursor, depth int) (SearchKey, error) {
	if depth > MaxSearchDepth {
		return SearchKey{}, tooBig("Search query nested too deeply")
	}
	a, err := c.Next()
	if err != nil {
		return SearchKey{}, syntaxf("Missing search key")
	}
	if a.Kind == ListArg {
		group := SearchKey{Op: "AND"}
		sub := NewCursor(a.List)
		for !sub.Done() {
			k, err := searchKey(sub, depth+1)
			if err != nil {
				return SearchKey{}, err
			}
			group.Sub = append(group.Sub, k)
		}
		if len(group.Sub) == 0 {
			return SearchKey{}, syntaxf("Empty search group")
		}
		return group, nil
	}
	if a.Kind != AtomArg {
		return SearchKey{}, syntaxf("Invalid search key")
	}
	op := strings.ToUpper(a.Str)
	k := SearchKey{Op: op}
	switch {
	case searchFlags[op]:
	case searchStrings[op]:
		k.Value, err = c.AString()
	case searchDates[op]:
		var s string
		if s, err = c.AString(); err == nil {
			k.Date, err = ParseDate(s)
		}
	case op == "HEADER":
		if k.Field, err = c.AString(); err == nil {
			k.Value, err = c.AString()
		}
	case op == "LARGER" || op == "SMALLER":
		k.Size, err = c.Number()
	case op == "UID":
		k.Set, err = c.SeqSet()
	case op == "NOT":
		var sub SearchKey
		sub, err = searchKey(c, depth+1)
		k.Sub = []SearchKey{sub}
	case op == "OR":
		var l, r SearchKey
		if l, err = searchKey(c, depth+1); err == nil {
			r, err = searchKey(c, depth+1)
		}
		k.Sub = []SearchKey{l, r}
	default:
		set, perr := ParseSeqSet(a.Str)
		if perr != nil {
			return SearchKey{}, syntaxf("Unknown search key %s", a.Str)
		}
		k = SearchKey{Op: "SEQ", Set: set}
	}
	if err != nil {
		return SearchKey{}, err
	}
	return k, nil
}
