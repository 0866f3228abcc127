package load

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeIMAP is just enough of an IMAP server for RunIMAP: LOGIN, SELECT
// INBOX (with "* n EXISTS"), IDLE, and APPEND with a synchronizing
// literal, which tells every idler the new count.
type fakeIMAP struct {
	l       net.Listener
	mu      sync.Mutex
	exists  int
	idlers  map[net.Conn]bool
	wg      sync.WaitGroup
	appends int
}

func startFakeIMAP(t *testing.T) *fakeIMAP {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIMAP{l: l, exists: 3, idlers: map[net.Conn]bool{}}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer c.Close()
				f.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		f.mu.Lock()
		for c := range f.idlers {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeIMAP) serve(c net.Conn) {
	r := bufio.NewReader(c)
	fmt.Fprintf(c, "* OK fake ready\r\n")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
		verb, arg, _ := strings.Cut(cmd, " ")
		switch verb {
		case "LOGIN":
			fmt.Fprintf(c, "%s OK logged in\r\n", tag)
		case "SELECT":
			f.mu.Lock()
			fmt.Fprintf(c, "* %d EXISTS\r\n* FLAGS ()\r\n%s OK [READ-WRITE] selected\r\n", f.exists, tag)
			f.mu.Unlock()
		case "IDLE":
			f.mu.Lock()
			f.idlers[c] = true
			f.mu.Unlock()
			fmt.Fprintf(c, "+ idling\r\n* OK still here\r\n")
		case "APPEND":
			lit := arg[strings.Index(arg, "{")+1 : len(arg)-1]
			n, _ := strconv.Atoi(lit)
			fmt.Fprintf(c, "+ go ahead\r\n")
			if _, err := io.ReadFull(r, make([]byte, n+2)); err != nil {
				return
			}
			fmt.Fprintf(c, "%s OK APPEND completed\r\n", tag)
			f.mu.Lock()
			f.exists++
			f.appends++
			for ic := range f.idlers {
				fmt.Fprintf(ic, "* %d EXISTS\r\n", f.exists)
			}
			f.mu.Unlock()
		default:
			fmt.Fprintf(c, "%s BAD unknown\r\n", tag)
		}
	}
}

func TestIMAP(t *testing.T) {
	f := startFakeIMAP(t)
	held := false
	res, err := RunIMAP(IMAPConfig{Addr: f.l.Addr().String(), Conns: 40, Watch: 10, DialConcurrency: 8, User: "demo", Password: "demo",
		Wait: 5 * time.Second, Hold: func(r IMAPResult) { held = r.Conns == 40 }})
	if err != nil {
		t.Fatal(err)
	}
	// The fake pushes EXISTS just after its tagged OK; a watcher may
	// still read it before the appender reads the OK (Early).
	if !held || res.Watched != 10 || res.Told != 10 || res.Early > 10 || res.Max > 5*time.Second || res.Login <= 0 || f.appends != 1 {
		t.Fatalf("held %v, appends %d, result %+v", held, f.appends, res)
	}
}

// A server that refuses LOGIN fails the run.
func TestIMAPRefused(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "* OK hi\r\n")
		r := bufio.NewReader(c)
		line, _ := r.ReadString('\n')
		tag, _, _ := strings.Cut(line, " ")
		fmt.Fprintf(c, "%s NO [AUTHENTICATIONFAILED] no\r\n", tag)
	}()
	if _, err := RunIMAP(IMAPConfig{Addr: l.Addr().String(), Conns: 1, Watch: 1, User: "demo", Password: "bad"}); err == nil || !strings.Contains(err.Error(), "AUTHENTICATIONFAILED") {
		t.Fatalf("refused LOGIN: %v", err)
	}
}

func TestQuantile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	if q := [3]time.Duration{quantile(d, 0.5), quantile(d, 0.99), quantile(d[:1], 0.99)}; q != [3]time.Duration{50, 99, 1} {
		t.Fatalf("quantiles %v", q)
	}
	if n, ok := existsCount("* 12 EXISTS"); !ok || n != 12 {
		t.Fatalf("existsCount %d %v", n, ok)
	}
	if _, ok := existsCount("* OK still here"); ok {
		t.Fatal("a keep-alive parsed as EXISTS")
	}
}
