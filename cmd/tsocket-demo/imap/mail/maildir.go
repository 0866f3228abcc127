package mail

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Maildir is a [Backend] keeping each user's mail in a Maildir++ under a
// root directory:
//
//	root/USER/{cur,new,tmp}           INBOX
//	root/USER/.NAME/{cur,new,tmp}     mailbox NAME ("a.b" is .a.b)
//
// A message is a file in cur/ named "BASE:2,FLAGS" with the system flags
// as Maildir letters (D F R S T, sorted); messages found in new/ (mail
// delivered by another program) are moved to cur/ when the mailbox is
// opened. UIDs, UIDVALIDITY, the next UID and keywords live in each
// maildir's uidlist file (see uidlist.go). INTERNALDATE is the file's
// modification time.
//
// The file system is used from the store's goroutine, so each call blocks
// the loop for as long as the disk takes: fine for a demo. One server
// process owns the tree; there is no locking against other writers.
type Maildir struct {
	root  string
	now   func() time.Time
	host  string
	pid   int
	count int // files delivered by this process, for unique names
}

// NewMaildir returns a backend under root (created if missing); now
// names files and gives UIDVALIDITY values.
func NewMaildir(root string, now func() time.Time) (*Maildir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	host = strings.NewReplacer("/", `\057`, ":", `\072`).Replace(host)
	if host == "" {
		host = "localhost"
	}
	return &Maildir{root: root, now: now, host: host, pid: os.Getpid()}, nil
}

func (m *Maildir) userDir(user string) (string, error) {
	if user == "" || strings.ContainsAny(user, `/\`) || strings.HasPrefix(user, ".") {
		return "", fmt.Errorf("%w: user %q", ErrName, user)
	}
	return filepath.Join(m.root, user), nil
}

func (m *Maildir) dir(user, name string) (string, error) {
	u, err := m.userDir(user)
	if err != nil || name == "INBOX" {
		return u, err
	}
	return filepath.Join(u, "."+name), nil
}

func makeMaildir(dir string) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
	}
	return nil
}

// Mailboxes implements Backend.
func (m *Maildir) Mailboxes(user string) ([]string, error) {
	u, err := m.userDir(user)
	if err != nil {
		return nil, err
	}
	if err := makeMaildir(u); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(u)
	if err != nil {
		return nil, err
	}
	names := []string{"INBOX"}
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() || len(n) < 2 || n[0] != '.' || n == ".." {
			continue
		}
		if fi, err := os.Stat(filepath.Join(u, n, "cur")); err == nil && fi.IsDir() {
			names = append(names, n[1:])
		}
	}
	sort.Strings(names)
	return names, nil
}

// Create implements Backend.
func (m *Maildir) Create(user, name string) error {
	d, err := m.dir(user, name)
	if err != nil {
		return err
	}
	if err := os.Mkdir(d, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, name)
		}
		return err
	}
	return makeMaildir(d)
}

// Open implements Backend.
func (m *Maildir) Open(user, name string) (Folder, error) {
	d, err := m.dir(user, name)
	if err != nil {
		return nil, err
	}
	if name == "INBOX" {
		if err := makeMaildir(d); err != nil {
			return nil, err
		}
	} else if fi, err := os.Stat(filepath.Join(d, "cur")); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w: %s", ErrNoMailbox, name)
	}
	return &maildirFolder{md: m, dir: d, byKey: map[string]*mdEntry{}}, nil
}

// newBase returns a unique file name for a delivery, in the usual form
// time.MusecPpidQn.host, with Maildir++'s ,S=size.
func (m *Maildir) newBase(size int) string {
	t := m.now()
	m.count++
	return fmt.Sprintf("%d.M%dP%dQ%d.%s,S=%d", t.Unix(), t.Nanosecond()/1000, m.pid, m.count, m.host, size)
}

// Maildir flag letters, in the ASCII order file names use.
var maildirLetters = []struct {
	letter byte
	flag   string
}{{'D', Draft}, {'F', Flagged}, {'R', Answered}, {'S', Seen}, {'T', Deleted}}

// fileName is base with its info suffix ":2,LETTERS".
func fileName(base string, flags Flags) string {
	b := []byte(base + ":2,")
	for _, l := range maildirLetters {
		if flags.Has(l.flag) {
			b = append(b, l.letter)
		}
	}
	return string(b)
}

// splitName returns a file's base and the system flags of its suffix.
func splitName(name string) (base string, flags Flags) {
	base, info, ok := strings.Cut(name, ":")
	if !ok || !strings.HasPrefix(info, "2,") {
		return base, nil
	}
	for _, l := range maildirLetters {
		if strings.IndexByte(info[2:], l.letter) >= 0 {
			flags = append(flags, l.flag)
		}
	}
	flags.sort()
	return base, flags
}
