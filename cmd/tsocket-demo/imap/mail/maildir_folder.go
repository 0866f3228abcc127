package mail

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// maildirFolder is one maildir: its uidlist in memory, kept in step with
// the files.
type maildirFolder struct {
	md    *Maildir
	dir   string
	list  uidlist
	byKey map[string]*mdEntry
}

type mdFile struct {
	name  string
	flags Flags
	info  fs.FileInfo
}

// Load delivers new/ into cur/, reads the uidlist, gives UIDs to files it
// does not list (in order of arrival) and forgets entries whose file has
// gone, rewriting the uidlist if anything changed.
func (f *maildirFolder) Load() (uint32, uint32, []Stored, error) {
	l, ok, err := readUidlist(f.dir)
	if err != nil {
		return 0, 0, nil, err
	}
	changed := !ok
	if !ok {
		l = uidlist{validity: uint32(f.md.now().Unix()), next: 1}
	}
	if err := f.deliverNew(); err != nil {
		return 0, 0, nil, err
	}
	files, err := f.scanCur()
	if err != nil {
		return 0, 0, nil, err
	}
	var entries []*mdEntry
	for _, e := range l.entries {
		file, ok := files[e.base]
		if !ok {
			changed = true // removed behind our back: expunged
			continue
		}
		e.file = file.name
		delete(files, e.base)
		entries = append(entries, e)
	}
	unknown := make([]string, 0, len(files))
	for base := range files {
		unknown = append(unknown, base)
	}
	slices.SortFunc(unknown, func(a, b string) int {
		if c := files[a].info.ModTime().Compare(files[b].info.ModTime()); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	for _, base := range unknown {
		entries = append(entries, &mdEntry{uid: l.next, base: base, file: files[base].name})
		l.next++
		changed = true
	}
	l.entries = entries
	if changed {
		if err := writeUidlist(f.dir, l); err != nil {
			return 0, 0, nil, err
		}
	}
	f.list = l
	stored := make([]Stored, 0, len(entries))
	for _, e := range entries {
		f.byKey[e.base] = e
		fi, err := os.Stat(filepath.Join(f.dir, "cur", e.file))
		if err != nil {
			return 0, 0, nil, err
		}
		_, sys := splitName(e.file)
		kw, _ := NewFlags(e.keywords...)
		stored = append(stored, Stored{UID: e.uid, Key: e.base, Flags: sys.Union(kw), Date: fi.ModTime(), Size: fi.Size()})
	}
	return l.validity, l.next, stored, nil
}

func (f *maildirFolder) deliverNew() error {
	ents, err := os.ReadDir(filepath.Join(f.dir, "new"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() || e.Name()[0] == '.' {
			continue
		}
		base, flags := splitName(e.Name())
		err := os.Rename(filepath.Join(f.dir, "new", e.Name()), filepath.Join(f.dir, "cur", fileName(base, flags)))
		if err != nil {
			return err
		}
	}
	return nil
}

func (f *maildirFolder) scanCur() (map[string]mdFile, error) {
	ents, err := os.ReadDir(filepath.Join(f.dir, "cur"))
	if err != nil {
		return nil, err
	}
	files := make(map[string]mdFile, len(ents))
	for _, e := range ents {
		if e.IsDir() || e.Name()[0] == '.' {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // gone since the listing
		}
		base, flags := splitName(e.Name())
		files[base] = mdFile{name: e.Name(), flags: flags, info: info}
	}
	return files, nil
}

// Append writes the message to tmp/, dates it, moves it into cur/ with its
// flags, and records its UID.
func (f *maildirFolder) Append(uid uint32, flags Flags, date time.Time, data []byte) (string, error) {
	base := f.md.newBase(len(data))
	tmp := filepath.Join(f.dir, "tmp", base)
	if err := writeSynced(tmp, data); err != nil {
		return "", err
	}
	name := fileName(base, flags)
	cur := filepath.Join(f.dir, "cur", name)
	if err := os.Chtimes(tmp, date, date); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, cur); err != nil {
		os.Remove(tmp)
		return "", err
	}
	e := &mdEntry{uid: uid, base: base, file: name, keywords: flags.Keywords()}
	old := f.list
	f.list.entries = append(slices.Clip(f.list.entries), e)
	f.list.next = uid + 1
	if err := writeUidlist(f.dir, f.list); err != nil {
		f.list = old
		os.Remove(cur)
		return "", err
	}
	f.byKey[base] = e
	return base, nil
}

func writeSynced(path string, data []byte) error {
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = file.Write(data)
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

func (f *maildirFolder) entry(key string) (*mdEntry, error) {
	e, ok := f.byKey[key]
	if !ok {
		return nil, fmt.Errorf("mail: maildir %s: no message %s", f.dir, key)
	}
	return e, nil
}

// SetFlags renames the file for system flags and rewrites the uidlist for
// keywords.
func (f *maildirFolder) SetFlags(key string, flags Flags) error {
	e, err := f.entry(key)
	if err != nil {
		return err
	}
	if name := fileName(e.base, flags); name != e.file {
		if err := os.Rename(filepath.Join(f.dir, "cur", e.file), filepath.Join(f.dir, "cur", name)); err != nil {
			return err
		}
		e.file = name
	}
	if kw := flags.Keywords(); !slices.Equal(kw, e.keywords) {
		e.keywords = kw
		return writeUidlist(f.dir, f.list)
	}
	return nil
}

// Expunge unlinks the files and drops their uidlist lines.
func (f *maildirFolder) Expunge(keys []string) error {
	gone := map[*mdEntry]bool{}
	for _, k := range keys {
		e, err := f.entry(k)
		if err != nil {
			return err
		}
		err = os.Remove(filepath.Join(f.dir, "cur", e.file))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		gone[e] = true
		delete(f.byKey, k)
	}
	f.list.entries = slices.DeleteFunc(f.list.entries, func(e *mdEntry) bool { return gone[e] })
	return writeUidlist(f.dir, f.list)
}

// Read reads the message file.
func (f *maildirFolder) Read(key string) ([]byte, error) {
	e, err := f.entry(key)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(filepath.Join(f.dir, "cur", e.file))
}
