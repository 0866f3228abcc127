package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
	"github.com/gotevent/gotevent/internal/testutil"
)

// Real IMAP clients against the demo's server: Python's imaplib, curl,
// mbsync (isync) and openssl s_client. .ci/run installs them; a test
// skips only when its tool is not on the machine at all.

// clientTimeout bounds each run of a client tool.
const clientTimeout = 60 * time.Second

// tool returns the path of a client program, or skips the test.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not found on PATH (apt-get install %s; .ci/run does)", name, pkg)
	}
	return path
}

// runTool runs a client program, bounded, and returns its output.
func runTool(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\n%s", filepath.Base(name), args, err, out.String())
	}
	return out.String()
}

// inbox returns the INBOX of demo on the harness's loop.
func (h *imapHarness) inbox(store *mail.Store) *mail.Mailbox {
	h.t.Helper()
	var mb *mail.Mailbox
	var err error
	h.onLoop(func() {
		var a *mail.Account
		if a, err = store.Account("demo"); err == nil {
			mb, err = a.Mailbox("INBOX")
		}
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return mb
}

// appendMsg stores a message in demo's INBOX.
func (h *imapHarness) appendMsg(store *mail.Store, data string) {
	h.t.Helper()
	mb := h.inbox(store)
	var err error
	h.onLoop(func() { _, err = mb.Append([]byte(data), nil, time.Now()) })
	if err != nil {
		h.t.Fatal(err)
	}
}

// messages returns the bodies of demo's INBOX, in UID order.
func (h *imapHarness) messages(store *mail.Store) []string {
	h.t.Helper()
	mb := h.inbox(store)
	var out []string
	var err error
	h.onLoop(func() {
		for _, m := range mb.Messages() {
			var b []byte
			if b, err = mb.Read(m); err != nil {
				return
			}
			out = append(out, string(b))
		}
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func newStore() *mail.Store { return mail.NewStore(mail.NewMemory(time.Now)) }

// sampleMsg is a message with CRLF line ends, as IMAP carries them.
func sampleMsg(subject string) string {
	return strings.ReplaceAll(fmt.Sprintf("From: Ann <ann@example.com>\nTo: demo@example.com\nSubject: %s\n"+
		"Date: Mon, 7 Feb 1994 21:52:25 -0800\nMessage-ID: <%s@example.com>\n\nHello, %s.\nA second line.\n", subject, subject, subject), "\n", "\r\n")
}

// imaplibScript is the Python side of TestPythonImaplib: every command a
// mail client needs, and IDLE through raw commands (imaplib has no IDLE
// before Python 3.14). It prints what the Go side checks.
const imaplibScript = `
import imaplib, sys
M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
M.login("demo", "demo")
typ, data = M.select("INBOX")
assert typ == "OK" and data == [b"0"], (typ, data)
msg = sys.stdin.buffer.read()
typ, data = M.append("INBOX", r"(\Flagged)", None, msg)
assert typ == "OK" and b"APPENDUID" in data[0], (typ, data)
M.append("INBOX", None, None, b"Subject: second\r\n\r\nbye\r\n")
typ, data = M.search(None, "FLAGGED")
assert data == [b"1"], data
typ, data = M.search(None, "ALL")
assert data == [b"1 2"], data
typ, data = M.fetch("1", "(RFC822)")
assert data[0][1] == msg, data
typ, data = M.uid("FETCH", "1:*", "(FLAGS)")
assert b"\\Seen" in data[0], data
M.store("2", "+FLAGS", r"\Deleted")
typ, data = M.expunge()
assert data == [b"2"], data
tag = M._new_tag().decode()
M.send(("%s IDLE\r\n" % tag).encode())
assert M.readline() == b"+ idling\r\n"
print("IDLING", flush=True)
line = M.readline()
assert line == b"* 2 EXISTS\r\n", line
M.send(b"DONE\r\n")
while True:
    line = M.readline()
    if line.startswith(tag.encode()):
        assert line.startswith((tag + " OK").encode()), line
        break
typ, data = M.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
print("PUSHED", data[0][1].decode().strip(), flush=True)
M.close()
M.logout()
print("DONE", flush=True)
`

// Python's imaplib: login, select, append, search, fetch, store,
// expunge, and IDLE told of a message stored meanwhile.
func TestPythonImaplib(t *testing.T) {
	py := tool(t, "python3", "python3")
	store := newStore()
	h := startIMAP(t, imap.Config{Session: sessionWith(store)})
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "-c", imaplibScript, portOf(h.addr))
	msg := sampleMsg("python")
	cmd.Stdin = strings.NewReader(msg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == "IDLING" {
			h.appendMsg(store, "Subject: pushed\r\n\r\nnew mail\r\n")
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	want := []string{"IDLING", "PUSHED Subject: pushed", "DONE"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Fatalf("python output mismatch (-want +got):\n%s\n%s", diff, stderr.String())
	}
	got := h.messages(store)
	if len(got) != 2 || got[0] != msg {
		t.Fatalf("the server holds %q", got)
	}
}

// curl fetches a message by UID, in the clear and with STARTTLS, and
// uploads one.
func TestCurlIMAP(t *testing.T) {
	curl := tool(t, "curl", "curl")
	tc := testutil.TLS(t)
	cert, _ := testutil.WriteTLSFiles(t, t.TempDir())
	store := newStore()
	h := startIMAP(t, imap.Config{Session: sessionWith(store), TLS: tc.Server})
	msg := sampleMsg("curl")
	h.appendMsg(store, msg)
	url := "imap://" + h.addr + "/INBOX;UID=1"
	if got := runTool(t, "", curl, "-sS", "--max-time", "30", url, "-u", "demo:demo"); got != msg {
		t.Errorf("curl fetched %q, want %q", got, msg)
	}
	if got := runTool(t, "", curl, "-sS", "--max-time", "30", "--ssl-reqd", "--cacert", cert, url, "-u", "demo:demo"); got != msg {
		t.Errorf("curl over STARTTLS fetched %q, want %q", got, msg)
	}
	up := sampleMsg("upload")
	upFile := filepath.Join(t.TempDir(), "upload.eml") // curl's APPEND needs the size up front
	if err := os.WriteFile(upFile, []byte(up), 0o600); err != nil {
		t.Fatal(err)
	}
	runTool(t, "", curl, "-sS", "--max-time", "30", "--ssl-reqd", "--cacert", cert, "-T", upFile, "imap://"+h.addr+"/INBOX", "-u", "demo:demo")
	if got := h.messages(store); len(got) != 2 || got[1] != up {
		t.Errorf("after curl -T the server holds %q", got)
	}
}

// mbsync (isync) syncs INBOX to a local Maildir and a new local message
// back, in the clear and over STARTTLS.
func TestMbsync(t *testing.T) {
	mbsync := tool(t, "mbsync", "isync")
	for _, mode := range []string{"None", "STARTTLS"} {
		t.Run(mode, func(t *testing.T) {
			tc := testutil.TLS(t)
			dir := t.TempDir()
			cert, _ := testutil.WriteTLSFiles(t, dir)
			store := newStore()
			h := startIMAP(t, imap.Config{Session: sessionWith(store), TLS: tc.Server})
			far := []string{sampleMsg("one"), sampleMsg("two")}
			for _, m := range far {
				h.appendMsg(store, m)
			}
			local := filepath.Join(dir, "mail")
			if err := os.Mkdir(local, 0o700); err != nil {
				t.Fatal(err)
			}
			host, ssl := "127.0.0.1", "SSLType None"
			if mode == "STARTTLS" {
				// mbsync matches the certificate's DNS names only.
				host, ssl = "localhost", "SSLType STARTTLS\nCertificateFile "+cert
			}
			rc := filepath.Join(dir, "mbsyncrc")
			conf := fmt.Sprintf(`IMAPAccount demo
Host %s
Port %s
User demo
Pass demo
%s
AuthMechs LOGIN
Timeout 30

IMAPStore far
Account demo

MaildirStore near
Path %s/
Inbox %s/INBOX

Channel sync
Far :far:
Near :near:
Patterns INBOX
Create Both
Sync All
SyncState *
`, host, portOf(h.addr), ssl, local, local)
			if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
				t.Fatal(err)
			}
			runTool(t, "", mbsync, "-c", rc, "-a")
			// A Maildir holds LF line ends, and mbsync marks what it
			// copies with an X-TUID header; the rest is the server's bytes.
			var want []string
			for _, m := range far {
				want = append(want, strings.ReplaceAll(m, "\r\n", "\n"))
			}
			if diff := cmp.Diff(want, maildirMessages(t, filepath.Join(local, "INBOX"))); diff != "" {
				t.Fatalf("local Maildir after the first sync (-want +got):\n%s", diff)
			}
			mine := sampleMsg("three")
			if err := os.WriteFile(filepath.Join(local, "INBOX", "new", "1.local"), []byte(strings.ReplaceAll(mine, "\r\n", "\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			runTool(t, "", mbsync, "-c", rc, "-a")
			got := h.messages(store)
			for i := range got {
				got[i] = tuidHeader.ReplaceAllString(got[i], "")
			}
			if diff := cmp.Diff(append(far, mine), got); diff != "" {
				t.Fatalf("server INBOX after syncing back (-want +got):\n%s", diff)
			}
		})
	}
}

// tuidHeader is the header mbsync adds to each message it copies, to
// find it again on the other side.
var tuidHeader = regexp.MustCompile(`(?m)^X-TUID: .*\r?\n`)

// maildirMessages returns the messages of a Maildir folder, sorted,
// without mbsync's X-TUID header.
func maildirMessages(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tuidHeader.ReplaceAllString(string(b), ""))
		}
	}
	sort.Strings(out)
	return out
}

// openssl s_client speaks STARTTLS to the server and verifies it.
func TestOpenSSLStartTLS(t *testing.T) {
	openssl := tool(t, "openssl", "openssl")
	tc := testutil.TLS(t)
	cert, _ := testutil.WriteTLSFiles(t, t.TempDir())
	h := startIMAP(t, imap.Config{Session: sessionWith(newStore()), TLS: tc.Server})
	out := runTool(t, "a1 LOGIN demo demo\na2 LOGOUT\n", openssl, "s_client", "-starttls", "imap", "-connect", h.addr,
		"-CAfile", cert, "-verify_return_error", "-crlf", "-ign_eof")
	for _, want := range []string{"Verify return code: 0 (ok)", "a1 OK", "* BYE", "a2 OK LOGOUT completed"} {
		if !strings.Contains(out, want) {
			t.Errorf("openssl s_client output lacks %q:\n%s", want, out)
		}
	}
}

func portOf(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

// sessionWith is a session configuration on store (startIMAP adds the
// users).
func sessionWith(store *mail.Store) session.Config { return session.Config{Store: store} }
