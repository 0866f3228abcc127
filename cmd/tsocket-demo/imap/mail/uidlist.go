package mail

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The uidlist file, one per maildir, is this server's own small cousin of
// dovecot-uidlist:
//
//	gotevent-uidlist 1 UIDVALIDITY NEXTUID
//	UID BASE [KEYWORD...]
//	...
//
// one line per message in UID order, BASE being the file name without its
// ":2," suffix (so flag changes, which rename the file, leave it alone).
// It is rewritten whole, through a temporary file and a rename, so a crash
// leaves the old or the new list, never half of one.
const (
	uidlistName  = "gotevent-uidlist"
	uidlistMagic = "gotevent-uidlist 1"
)

type uidlist struct {
	validity, next uint32
	entries        []*mdEntry // in UID order
}

type mdEntry struct {
	uid      uint32
	base     string
	file     string // name in cur/
	keywords []string
}

// readUidlist reads dir's uidlist; a missing one gives ok=false.
func readUidlist(dir string) (l uidlist, ok bool, err error) {
	data, err := os.ReadFile(filepath.Join(dir, uidlistName))
	if errors.Is(err, fs.ErrNotExist) {
		return uidlist{}, false, nil
	}
	if err != nil {
		return uidlist{}, false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	bad := func(n int) error {
		return fmt.Errorf("mail: %s line %d: malformed", filepath.Join(dir, uidlistName), n)
	}
	if !sc.Scan() {
		return uidlist{}, false, bad(1)
	}
	head, ok := strings.CutPrefix(sc.Text(), uidlistMagic+" ")
	v, n, ok2 := strings.Cut(head, " ")
	validity, err1 := strconv.ParseUint(v, 10, 32)
	next, err2 := strconv.ParseUint(n, 10, 32)
	if !ok || !ok2 || err1 != nil || err2 != nil {
		return uidlist{}, false, bad(1)
	}
	l = uidlist{validity: uint32(validity), next: uint32(next)}
	for line := 2; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			return uidlist{}, false, bad(line)
		}
		uid, err := strconv.ParseUint(f[0], 10, 32)
		if err != nil || uid == 0 || uint32(uid) >= l.next ||
			len(l.entries) > 0 && uint32(uid) <= l.entries[len(l.entries)-1].uid {
			return uidlist{}, false, bad(line)
		}
		l.entries = append(l.entries, &mdEntry{uid: uint32(uid), base: f[1], keywords: f[2:]})
	}
	return l, true, sc.Err()
}

// writeUidlist replaces dir's uidlist atomically.
func writeUidlist(dir string, l uidlist) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %d %d\n", uidlistMagic, l.validity, l.next)
	for _, e := range l.entries {
		fmt.Fprintf(&b, "%d %s", e.uid, e.base)
		for _, k := range e.keywords {
			b.WriteByte(' ')
			b.WriteString(k)
		}
		b.WriteByte('\n')
	}
	tmp := filepath.Join(dir, uidlistName+".tmp")
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, uidlistName))
}
