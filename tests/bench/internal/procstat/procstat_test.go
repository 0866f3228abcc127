package procstat

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseStat(t *testing.T) {
	line := "1234 (a (b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 17 0 0 20 0 3 0 100 1000 10 18446744073709551615\n"
	got, err := ParseStat([]byte(line))
	if err != nil || got != 267*ClockTick {
		t.Fatalf("got %v, %v; want %v", got, err, 267*ClockTick)
	}
	if _, err := ParseStat([]byte("1 (x) S 1")); err == nil {
		t.Fatal("short stat accepted")
	}
}

func TestParseRSS(t *testing.T) {
	got, err := ParseRSS([]byte("Name:\tx\nVmPeak:\t  10 kB\nVmRSS:\t    2048 kB\n"))
	if err != nil || got != 2048<<10 {
		t.Fatalf("got %d, %v", got, err)
	}
	if _, err := ParseRSS([]byte("Name:\tx\n")); err == nil {
		t.Fatal("missing VmRSS accepted")
	}
}

// The live figures of this process are sane and CPU time moves.
func TestSelf(t *testing.T) {
	pid := os.Getpid()
	c0, err := CPU(pid)
	if err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
	}
	c1, err := CPU(pid)
	if err != nil || c1 <= c0 {
		t.Fatalf("cpu %v then %v, %v", c0, c1, err)
	}
	rss, err := RSS(pid)
	if err != nil || rss < 1<<20 {
		t.Fatalf("rss %d, %v", rss, err)
	}
	// Alone in its pages but for shared libraries, PSS is at most RSS
	// (read a moment apart, so within a few pages).
	if pss, err := PSS(pid); err != nil || pss <= 0 || pss > rss+64<<10 {
		t.Fatalf("pss %d (rss %d), %v", pss, rss, err)
	}
}

func TestParseBusy(t *testing.T) {
	got, err := ParseBusy([]byte("cpu  10 2 30 1000 50 4 5 6 0 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n"))
	if err != nil || got != 52*ClockTick {
		t.Fatalf("got %v, %v; want %v", got, err, 52*ClockTick)
	}
	if _, err := ParseBusy([]byte("intr 1 2\n")); err == nil {
		t.Fatal("missing cpu line accepted")
	}
	if b, err := Busy(); err != nil || b <= 0 {
		t.Fatalf("busy %v, %v", b, err)
	}
}

func TestParsePPID(t *testing.T) {
	if got, err := ParsePPID([]byte("4242 (tsocket-demo (x)) S 17 4242 4242 0 -1 4194560 95 0")); got != 17 || err != nil {
		t.Errorf("ppid %d, %v; want 17", got, err)
	}
	if _, err := ParsePPID([]byte("4242 (demo")); err == nil {
		t.Error("stat without ')' accepted")
	}
}

// A child this process starts is found, and a descriptor it opens is
// counted.
func TestChildrenAndFDs(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	kids, err := Children(os.Getpid())
	if err != nil || !slices.Contains(kids, cmd.Process.Pid) {
		t.Errorf("children %v, %v; want %d among them", kids, err, cmd.Process.Pid)
	}
	n0, err := FDs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// ReadDir holds one descriptor of its own while it counts, both times.
	if n1, err := FDs(os.Getpid()); n1 != n0+1 || err != nil {
		t.Errorf("fds %d after opening one, %d before, %v", n1, n0, err)
	}
}
