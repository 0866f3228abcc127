package mail_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
)

func curFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func TestMaildirLayout(t *testing.T) {
	root := t.TempDir()
	open := func() *mail.Mailbox {
		b, err := mail.NewMaildir(root, clock)
		if err != nil {
			t.Fatal(err)
		}
		return inbox(t, mail.NewStore(b))
	}
	mb := open()
	inboxDir := filepath.Join(root, "demo")
	m, err := mb.Append([]byte("Subject: a\r\n\r\n"), flags(t, `\Seen`, `\Flagged`, "work"), t0)
	if err != nil {
		t.Fatal(err)
	}
	files := curFiles(t, inboxDir)
	if len(files) != 1 || !strings.HasSuffix(files[0], ",S=14:2,FS") {
		t.Fatalf("cur/ holds %v, want one file ending in ,S=14:2,FS", files)
	}
	mb.Store([]*mail.Message{m}, mail.SetFlags, flags(t, `\Answered`, `\Deleted`))
	if files = curFiles(t, inboxDir); !strings.HasSuffix(files[0], ":2,RT") {
		t.Errorf("after STORE cur/ holds %v, want :2,RT", files)
	}
	uidlist, err := os.ReadFile(filepath.Join(inboxDir, "gotevent-uidlist"))
	if err != nil || !strings.HasPrefix(string(uidlist), "gotevent-uidlist 1 ") || strings.Contains(string(uidlist), "work") {
		t.Errorf("uidlist %q, %v: want the header and no keyword left", uidlist, err)
	}

	// Another program delivers into new/ and deletes a file from cur/.
	os.WriteFile(filepath.Join(inboxDir, "new", "1700000000.X1.host"), []byte("Subject: b\r\n\r\n"), 0o600)
	os.WriteFile(filepath.Join(inboxDir, "new", "1700000001.X2.host"), []byte("Subject: c\r\n\r\n"), 0o600)
	mb = open()
	msgs := mb.Messages()
	if len(msgs) != 3 || msgs[1].UID() != 2 || msgs[2].UID() != 3 || !msgs[0].Flags().Has(mail.Deleted) {
		t.Fatalf("after delivery: %d messages", len(msgs))
	}
	if ents, _ := os.ReadDir(filepath.Join(inboxDir, "new")); len(ents) != 0 {
		t.Errorf("new/ still holds %d files", len(ents))
	}
	os.Remove(filepath.Join(inboxDir, "cur", curFiles(t, inboxDir)[0]))
	mb = open()
	if got := len(mb.Messages()); got != 2 || mb.UIDNext() != 4 {
		t.Errorf("after an outside delete: %d messages, next %d; want 2, 4", got, mb.UIDNext())
	}
	if _, err := mb.Expunge(func(*mail.Message) bool { return true }); err != nil {
		t.Fatal(err)
	}
	if files := curFiles(t, inboxDir); len(files) != 0 {
		t.Errorf("expunge left %v", files)
	}
}

func TestMaildirRefusesUnsafeUsers(t *testing.T) {
	b, err := mail.NewMaildir(t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"../x", ".hidden", "a/b", ""} {
		if _, err := mail.NewStore(b).Account(u); err == nil {
			t.Errorf("user %q accepted", u)
		}
	}
}

func TestUsers(t *testing.T) {
	u, err := mail.ParseUsers(strings.NewReader("# comment\n\nalice:s3cr:et\r\nbob:\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, pw string
		ok       bool
	}{{"alice", "s3cr:et", true}, {"alice", "s3cr", false}, {"bob", "", true}, {"carol", "", false}, {"demo", "demo", false}} {
		if got := u.Check(c.name, c.pw); got != c.ok {
			t.Errorf("Check(%q, %q) = %v", c.name, c.pw, got)
		}
	}
	if !mail.DefaultUsers().Check("demo", "demo") {
		t.Error("default user demo/demo refused")
	}
	if _, err := mail.ParseUsers(strings.NewReader("alice\n")); err == nil {
		t.Error("line without ':' accepted")
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pat, name string
		ok        bool
	}{
		{"*", "a.b", true}, {"%", "a.b", false}, {"a.%", "a.b", true}, {"a%", "abc", true},
		{"INBOX", "INBOX", true}, {"inbox*", "INBOX.x", true}, {"in*", "INBOX", false},
		{"*b", "a.b", true}, {"", "", true}, {"", "a", false},
		{strings.Repeat("*a", 20) + "b", strings.Repeat("a", 200), false},
	} {
		if got := mail.Match(c.pat, c.name); got != c.ok {
			t.Errorf("Match(%q, %q) = %v", c.pat, c.name, got)
		}
	}
}
