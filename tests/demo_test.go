package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/tour"
	"github.com/gotevent/gotevent/tevent"
)

func TestTour(t *testing.T) {
	var out bytes.Buffer
	if err := tour.Run(&out); err != nil {
		t.Fatalf("tour failed: %v\n%s", err, out.String())
	}
	for i := 1; i <= 9; i++ {
		if !strings.Contains(out.String(), fmt.Sprintf("\n%d. ", i)) {
			t.Errorf("step %d missing from the tour output", i)
		}
	}
	if got := strings.Count(out.String(), "   ok in "); got != 9 {
		t.Errorf("%d steps ok, want 9:\n%s", got, out.String())
	}
	if !strings.Contains(out.String(), "all 9 steps ok") {
		t.Errorf("no closing line:\n%s", out.String())
	}
}

func startRESP(t *testing.T) string {
	t.Helper()
	var addr string
	runLoop(t, func(ev *tevent.Context) func() {
		l := listen(t, ev)
		addr = tcpAddr(l.Addr())
		srv := resp.NewServer(ev, l, resp.NewKeyspace(ev), resp.DefaultConfig())
		return srv.Close
	})
	return addr
}

// respCmd encodes a command as a RESP multibulk array.
func respCmd(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// readReply reads one RESP reply and renders it as a compact string:
// "+OK", "-ERR ...", ":3", "$hello", "$nil", "*[a b]".
func readReply(t testing.TB, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("read reply: %v (got %q)", err, line)
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+', '-', ':':
		return line
	case '$':
		var n int
		fmt.Sscanf(line[1:], "%d", &n)
		if n < 0 {
			return "$nil"
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatalf("read bulk: %v", err)
		}
		return "$" + string(buf[:n])
	case '*':
		var n int
		fmt.Sscanf(line[1:], "%d", &n)
		var parts []string
		for range n {
			parts = append(parts, readReply(t, r))
		}
		return "*[" + strings.Join(parts, " ") + "]"
	}
	t.Fatalf("bad reply line %q", line)
	return ""
}

func TestRESPPipelined(t *testing.T) {
	c := dial(t, startRESP(t))
	// 200 commands in one write; replies must come back complete and in order.
	var req strings.Builder
	var want []string
	for i := range 100 {
		k, v := fmt.Sprintf("key:%d", i), strings.Repeat(string(rune('a'+i%26)), i)
		req.WriteString(respCmd("SET", k, v))
		req.WriteString(respCmd("GET", k))
		want = append(want, "+OK", "$"+v)
	}
	req.WriteString("PING\r\n") // an inline command in the middle of multibulk ones
	want = append(want, "+PONG")
	req.WriteString(respCmd("INCR", "n") + respCmd("INCR", "n") + respCmd("DEL", "key:1", "key:2", "nope"))
	want = append(want, ":1", ":2", ":2")
	req.WriteString(respCmd("EXISTS", "key:1", "key:3") + respCmd("ECHO", "bye") + respCmd("GET", "missing"))
	want = append(want, ":1", "$bye", "$nil")
	c.send(req.String())
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	for i, w := range want {
		if got := readReply(t, c.r); got != w {
			t.Fatalf("reply %d = %q, want %q", i, got, w)
		}
	}
	c.send(respCmd("QUIT"))
	if got := readReply(t, c.r); got != "+OK" {
		t.Fatalf("QUIT = %q", got)
	}
	c.eof()
}

// Several clients send commands cut into pieces, interleaved, so the
// server's connections often hold a partial command while the loop's shared
// read buffer serves the others: every value must come back intact.
func TestRESPSplitCommandsAcrossClients(t *testing.T) {
	addr := startRESP(t)
	const clients = 4
	var cs []*client
	for range clients {
		cs = append(cs, dial(t, addr))
	}
	cmds := make([]string, clients)
	for i := range clients {
		cmds[i] = respCmd("SET", fmt.Sprintf("k%d", i), strings.Repeat(string(rune('a'+i)), 3000+i)) +
			respCmd("GET", fmt.Sprintf("k%d", i))
	}
	// Cut every client's commands into 7 pieces and send them in turns.
	// After each turn, two PINGs on another connection: the second is
	// answered in a later loop iteration than the first, and by then the
	// server has read every piece sent before it, alone: each turn leaves
	// a partial command on every connection.
	ctl := dial(t, addr)
	ctl.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	for piece := range 7 {
		for i, c := range cs {
			n := len(cmds[i])
			c.send(cmds[i][piece*n/7 : (piece+1)*n/7])
		}
		for range 2 {
			ctl.send("PING\r\n")
			if got := readReply(t, ctl.r); got != "+PONG" {
				t.Fatalf("PING = %q", got)
			}
		}
	}
	for i, c := range cs {
		c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
		if got := readReply(t, c.r); got != "+OK" {
			t.Fatalf("client %d SET = %q", i, got)
		}
		if got, want := readReply(t, c.r), "$"+strings.Repeat(string(rune('a'+i)), 3000+i); got != want {
			t.Fatalf("client %d GET = %.20q... (%d bytes), want %d bytes of %c", i, got, len(got), len(want)-1, 'a'+i)
		}
	}
}

func TestRESPMalformed(t *testing.T) {
	addr := startRESP(t)
	for _, tc := range []struct{ name, in, wantPrefix string }{
		{"bad count", "*x\r\n", "-ERR Protocol error"},
		{"negative bulk length", "*1\r\n$-3\r\n", "-ERR Protocol error"},
		{"huge bulk length", "*1\r\n$1000000000\r\n", "-ERR Protocol error"},
		{"not a bulk", "*1\r\n:1\r\n", "-ERR Protocol error"},
		{"too many arguments", "*99999\r\n", "-ERR Protocol error"},
		{"inline line too long", strings.Repeat("x", resp.MaxInlineLen+100), "-ERR Protocol error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			c.send(tc.in)
			c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
			if got := readReply(t, c.r); !strings.HasPrefix(got, tc.wantPrefix) {
				t.Fatalf("reply %q, want %q...", got, tc.wantPrefix)
			}
			c.eof() // and the server closes, as Redis does
		})
	}
	// Unknown commands and wrong arity are errors that keep the connection.
	c := dial(t, addr)
	c.send(respCmd("FROB") + respCmd("GET") + respCmd("PING"))
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	for _, want := range []string{"-ERR unknown command 'FROB'", "-ERR wrong number of arguments for 'get' command", "+PONG"} {
		if got := readReply(t, c.r); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestRESPClientDisconnectsMidCommand(t *testing.T) {
	addr := startRESP(t)
	for _, partial := range []string{"*3\r\n$3\r\nSET\r\n$1\r\nk", "*2\r\n$4\r\nEC", "PIN"} {
		c := dial(t, addr)
		c.send(partial)
		c.conn.Close()
	}
	// The server is unharmed and holds nothing for them.
	c := dial(t, addr)
	c.send(respCmd("PING"))
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	if got := readReply(t, c.r); got != "+PONG" {
		t.Fatalf("PING after disconnects = %q", got)
	}
}

var (
	buildOnce sync.Once
	demoBin   string
	buildErr  error
)

// binary builds cmd/tsocket-demo once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tsocket-demo")
		if err != nil {
			buildErr = err
			return
		}
		demoBin = filepath.Join(dir, "tsocket-demo")
		out, err := exec.Command("go", "build", "-o", demoBin, "../cmd/tsocket-demo").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return demoBin
}

// startBinary runs the demo with args, waits for its "serving ... on ADDR"
// log line and returns the address; the process gets SIGTERM at cleanup and
// must exit 0.
func startBinary(t *testing.T, args ...string) string {
	t.Helper()
	addr, _ := startBinaryProc(t, args...)
	return addr
}

// startBinaryProc is startBinary that also returns the process.
func startBinaryProc(t *testing.T, args ...string) (string, *os.Process) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	re := regexp.MustCompile(`on ipv4:([0-9.]+:[0-9]+)`)
	addr := ""
	for lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("%v did not report its address", args)
	}
	drained := make(chan struct{})
	go func() { io.Copy(io.Discard, stderr); close(drained) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-drained
		if err := cmd.Wait(); err != nil {
			t.Errorf("%v after SIGTERM: %v (want a clean exit)", args, err)
		}
	})
	return addr, cmd.Process
}

func TestBinaryTourAndHelp(t *testing.T) {
	out, err := exec.Command(binary(t)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "all 9 steps ok") {
		t.Fatalf("tsocket-demo: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"imap", "--help"}, {"serve", "--help"}, {"resp", "--help"}, {"--help"}} {
		out, err := exec.Command(binary(t), args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "usage: tsocket-demo") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	for _, args := range [][]string{{"serve"}, {"imap", "--listen", "127.0.0.1:0", "--tls-cert", "x"}, {"resp", "--listen", "example.com:80"}, {"frob"}, {"resp", "--listen", "127.0.0.1:0", "--loops", "0"}} {
		out, err := exec.Command(binary(t), args...).CombinedOutput()
		if err == nil {
			t.Errorf("%v succeeded", args)
			continue
		}
		if last := strings.TrimSpace(string(out)); !strings.Contains(last, "tsocket-demo: ") {
			t.Errorf("%v: no clear error line:\n%s", args, out)
		}
	}
}

// The binary's imap command (and serve, its other name) runs the IMAP
// server: a session with IDLE told of another client's APPEND.
func TestBinaryIMAPSession(t *testing.T) {
	for _, name := range []string{"imap", "serve"} {
		t.Run(name, func(t *testing.T) {
			addr := startBinary(t, name, "--listen", "127.0.0.1:0")
			a, b := dial(t, addr), dial(t, addr)
			for _, c := range []*client{a, b} {
				c.line() // the greeting
				c.ok("l1", "LOGIN demo demo")
			}
			a.ok("a1", "SELECT INBOX")
			a.send("a2 IDLE\r\n")
			a.expect("+ idling")
			b.ok("b1", "APPEND INBOX {14+}\r\nSubject: x\r\n\r\n")
			a.expect("* 1 EXISTS")
			a.expect("* 1 RECENT")
			a.send("DONE\r\n")
			a.expect("a2 OK IDLE terminated")
			a.send("a3 LOGOUT\r\n")
			a.expect("* BYE gotevent IMAP4rev1 server logging out")
			a.expect("a3 OK LOGOUT completed")
		})
	}
}

// The binary's loops share one key space: what a client on one loop SETs,
// the clients on every loop GET.
func TestBinaryRESPLoops(t *testing.T) {
	addr := startBinary(t, "resp", "--listen", "127.0.0.1:0", "--loops", "2")
	var cs []*respConn
	for i := range 8 { // spread over both loops by the kernel
		c := dialRESP(t, addr)
		if got := c.do("ECHO", fmt.Sprint(i)); got != fmt.Sprintf("$%d", i) {
			t.Fatalf("ECHO %d = %q", i, got)
		}
		if got := c.do("SET", fmt.Sprint("key", i), fmt.Sprint("value", i)); got != "+OK" {
			t.Fatalf("SET = %q", got)
		}
		cs = append(cs, c)
	}
	for _, c := range cs {
		for i := range cs {
			if got, want := c.do("GET", fmt.Sprint("key", i)), fmt.Sprint("$value", i); got != want {
				t.Fatalf("GET key%d = %q, want %q", i, got, want)
			}
		}
	}
	if got := cs[0].do("DEL", "key0", "key1", "key2", "key3", "nokey"); got != ":4" {
		t.Fatalf("DEL of keys on both loops = %q", got)
	}
	if got := cs[7].do("EXISTS", "key0", "key3", "key4", "key7", "key7"); got != ":3" {
		t.Fatalf("EXISTS = %q", got)
	}
}

// redis-cli, when installed, talks to the server too.
func TestRedisCLI(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed")
	}
	addr := startBinary(t, "resp", "--listen", "127.0.0.1:0")
	host, port, _ := net.SplitHostPort(addr)
	run := func(args ...string) string {
		out, err := exec.Command(cli, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run("PING"); got != "PONG" {
		t.Fatalf("PING = %q", got)
	}
	run("SET", "greeting", "hello")
	if got := run("GET", "greeting"); got != "hello" {
		t.Fatalf("GET = %q", got)
	}
}
