package mail

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"
)

// Memory is a [Backend] that keeps everything in memory: the demo's
// default, and what tests use. A user has an INBOX from the first look.
type Memory struct {
	now   func() time.Time
	users map[string]map[string]*memFolder
}

// NewMemory returns an empty memory backend; now gives UIDVALIDITY values.
func NewMemory(now func() time.Time) *Memory {
	return &Memory{now: now, users: map[string]map[string]*memFolder{}}
}

func (m *Memory) boxes(user string) map[string]*memFolder {
	b, ok := m.users[user]
	if !ok {
		b = map[string]*memFolder{"INBOX": m.newFolder()}
		m.users[user] = b
	}
	return b
}

func (m *Memory) newFolder() *memFolder {
	return &memFolder{validity: uint32(m.now().Unix()), next: 1, msgs: map[string]*memMsg{}}
}

// Mailboxes implements Backend.
func (m *Memory) Mailboxes(user string) ([]string, error) {
	var names []string
	for n := range m.boxes(user) {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Create implements Backend.
func (m *Memory) Create(user, name string) error {
	b := m.boxes(user)
	if _, ok := b[name]; ok {
		return fmt.Errorf("%w: %s", ErrExists, name)
	}
	b[name] = m.newFolder()
	return nil
}

// Open implements Backend.
func (m *Memory) Open(user, name string) (Folder, error) {
	f, ok := m.boxes(user)[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoMailbox, name)
	}
	return f, nil
}

type memFolder struct {
	validity, next uint32
	msgs           map[string]*memMsg
}

type memMsg struct {
	Stored
	data []byte
}

func (f *memFolder) Load() (uint32, uint32, []Stored, error) {
	out := make([]Stored, 0, len(f.msgs))
	for _, m := range f.msgs {
		out = append(out, m.Stored)
	}
	slices.SortFunc(out, func(a, b Stored) int { return cmp.Compare(a.UID, b.UID) })
	return f.validity, f.next, out, nil
}

func (f *memFolder) Append(uid uint32, flags Flags, date time.Time, data []byte) (string, error) {
	key := strconv.FormatUint(uint64(uid), 10)
	f.msgs[key] = &memMsg{Stored{UID: uid, Key: key, Flags: flags, Date: date, Size: int64(len(data))}, data}
	f.next = uid + 1
	return key, nil
}

func (f *memFolder) SetFlags(key string, flags Flags) error {
	m, ok := f.msgs[key]
	if !ok {
		return fmt.Errorf("mail: memory: no message %s", key)
	}
	m.Flags = flags
	return nil
}

func (f *memFolder) Expunge(keys []string) error {
	for _, k := range keys {
		delete(f.msgs, k)
	}
	return nil
}

func (f *memFolder) Read(key string) ([]byte, error) {
	m, ok := f.msgs[key]
	if !ok {
		return nil, fmt.Errorf("mail: memory: no message %s", key)
	}
	return m.data, nil
}
