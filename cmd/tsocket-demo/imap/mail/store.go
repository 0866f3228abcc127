package mail

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
)

// Delimiter is the hierarchy delimiter of mailbox names (Maildir++'s).
const Delimiter = "."

// Store is the mail of every user, over one [Backend]. Accounts and
// mailboxes are opened on first use and then kept: every session of a
// user shares one [Account], and every session on a mailbox one
// [Mailbox], which is what lets them see each other's changes.
//
// Ownership: a Store and everything it returns belong to one goroutine,
// the loop that runs the IMAP sessions. There are no locks; a server with
// several loops gives each its own Store (and backend directory).
type Store struct {
	backend  Backend
	accounts map[string]*Account
	epoch    uint64
}

// NewStore returns a store over b.
func NewStore(b Backend) *Store {
	return &Store{backend: b, accounts: map[string]*Account{}, epoch: rand.Uint64()}
}

// Epoch identifies this store instance. Modification sequences are kept
// in memory, so one saved by a session (a hibernated one) means something
// only to a store of the same epoch.
func (s *Store) Epoch() uint64 { return s.epoch }

// Account returns user's account, opening it on first use.
func (s *Store) Account(user string) (*Account, error) {
	if a, ok := s.accounts[user]; ok {
		return a, nil
	}
	if _, err := s.backend.Mailboxes(user); err != nil {
		return nil, err
	}
	a := &Account{store: s, user: user, boxes: map[string]*Mailbox{}}
	s.accounts[user] = a
	return a, nil
}

// Account is one user's mailboxes.
type Account struct {
	store *Store
	user  string
	boxes map[string]*Mailbox
}

// User returns the account's user name.
func (a *Account) User() string { return a.user }

// Mailbox returns a mailbox, opening it on first use. INBOX is matched in
// any case.
func (a *Account) Mailbox(name string) (*Mailbox, error) {
	name = canonName(name)
	if mb, ok := a.boxes[name]; ok {
		return mb, nil
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	f, err := a.store.backend.Open(a.user, name)
	if err != nil {
		return nil, err
	}
	mb, err := openMailbox(name, f)
	if err != nil {
		return nil, err
	}
	a.boxes[name] = mb
	return mb, nil
}

// Create makes a mailbox; a trailing delimiter is dropped, as RFC 3501
// asks.
func (a *Account) Create(name string) error {
	name = canonName(strings.TrimSuffix(name, Delimiter))
	if name == "INBOX" {
		return fmt.Errorf("%w: INBOX", ErrExists)
	}
	if err := checkName(name); err != nil {
		return err
	}
	return a.store.backend.Create(a.user, name)
}

// ListEntry is one LIST response.
type ListEntry struct {
	Name     string
	NoSelect bool // a level of the hierarchy that is not a mailbox
}

// List returns the mailboxes whose names match ref+pattern (RFC 3501
// section 6.3.8: '*' matches anything, '%' anything but the delimiter), in
// name order, with the parents that deeper names imply as \Noselect.
func (a *Account) List(ref, pattern string) ([]ListEntry, error) {
	names, err := a.store.backend.Mailboxes(a.user)
	if err != nil {
		return nil, err
	}
	all := map[string]bool{}
	for _, n := range names {
		all[n] = true
	}
	for _, n := range names {
		for i := strings.Index(n, Delimiter); i > 0; {
			if _, ok := all[n[:i]]; !ok {
				all[n[:i]] = false
			}
			j := strings.Index(n[i+1:], Delimiter)
			if j < 0 {
				break
			}
			i += j + 1
		}
	}
	pat := ref + pattern
	var out []ListEntry
	for n, real := range all {
		if Match(pat, n) {
			out = append(out, ListEntry{Name: n, NoSelect: !real})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Match reports whether a mailbox name matches a LIST pattern. INBOX
// matches case-insensitively, as its name does.
func Match(pattern, name string) bool {
	if strings.HasPrefix(strings.ToUpper(pattern), "INBOX") && (name == "INBOX" || strings.HasPrefix(name, "INBOX"+Delimiter)) {
		pattern = "INBOX" + pattern[5:]
	}
	// dp[j]: pattern[:i] matches name[:j]; O(len(pattern)*len(name)), so no
	// pattern can make matching exponential.
	dp := make([]bool, len(name)+1)
	dp[0] = true
	for i := 0; i < len(pattern); i++ {
		next := make([]bool, len(name)+1)
		switch c := pattern[i]; c {
		case '*', '%':
			next[0] = dp[0]
			for j := 1; j <= len(name); j++ {
				next[j] = dp[j] || next[j-1] && (c == '*' || name[j-1] != Delimiter[0])
			}
		default:
			for j := 1; j <= len(name); j++ {
				next[j] = dp[j-1] && name[j-1] == c
			}
		}
		dp = next
	}
	return dp[len(name)]
}

func canonName(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}

// checkName refuses names a backend could not hold safely: empty
// levels, path separators, wildcards, control and 8-bit characters
// (mailbox names are modified UTF-7, 7-bit).
func checkName(name string) error {
	bad := name == "" || strings.HasPrefix(name, Delimiter) || strings.HasSuffix(name, Delimiter) ||
		strings.Contains(name, Delimiter+Delimiter) || strings.ContainsAny(name, `/\%*`)
	for i := 0; i < len(name) && !bad; i++ {
		bad = name[i] < ' ' || name[i] > '~'
	}
	if bad {
		return fmt.Errorf("%w: %q", ErrName, name)
	}
	return nil
}
