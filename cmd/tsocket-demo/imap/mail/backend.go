package mail

import "time"

// Backend is where a store keeps its users' mailboxes: [NewMemory] or
// [NewMaildir]. The [Mailbox] above it holds the index (UIDs, flags,
// modification sequence, watchers) in memory and calls the backend only
// to persist a change or read a body, so any backend serves every session
// alike. A backend is called from the store's goroutine only.
type Backend interface {
	// Mailboxes lists a user's mailboxes, INBOX included (created on first
	// use).
	Mailboxes(user string) ([]string, error)
	// Create makes an empty mailbox (ErrExists if it exists).
	Create(user, name string) error
	// Open returns a mailbox's storage (ErrNoMailbox if it does not exist).
	Open(user, name string) (Folder, error)
}

// Folder is one mailbox's storage.
type Folder interface {
	// Load returns what the folder holds, messages in UID order.
	Load() (validity, next uint32, msgs []Stored, err error)
	// Append stores a message under uid, which becomes the folder's last;
	// it returns the folder's key for it. The folder may keep data
	// without copying: the caller hands it over.
	Append(uid uint32, flags Flags, date time.Time, data []byte) (key string, err error)
	// SetFlags replaces a message's flags.
	SetFlags(key string, flags Flags) error
	// Expunge removes messages for good.
	Expunge(keys []string) error
	// Read returns a message's bytes; the caller must not change them.
	Read(key string) ([]byte, error)
}

// Stored is a message as a folder lists it.
type Stored struct {
	UID   uint32
	Key   string
	Flags Flags
	Date  time.Time
	Size  int64
}
