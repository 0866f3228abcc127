package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tests/bench/internal/report"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A child is started, its lines read, fed on standard input and stopped.
func TestProc(t *testing.T) {
	h := &harness{}
	p, err := h.start("sh", -1, "sh", "-c", `echo READY; read x; echo "got $x"; echo oops >&2; exit 3`)
	if err != nil {
		t.Fatal(err)
	}
	if line, err := p.next(5 * time.Second); err != nil || line != "READY" {
		t.Fatalf("got %q, %v", line, err)
	}
	if err := p.send("hello"); err != nil {
		t.Fatal(err)
	}
	if line, err := p.next(5 * time.Second); err != nil || line != "got hello" {
		t.Fatalf("got %q, %v", line, err)
	}
	_, err = p.next(5 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "oops") {
		t.Fatalf("end of output: %v, want the exit status and stderr", err)
	}
	if err := p.wait(5 * time.Second); err == nil {
		t.Fatal("exit 3 reported as success")
	}
}

// stop ends a child that ignores "quit" and its closed input.
func TestProcStop(t *testing.T) {
	h := &harness{}
	p, err := h.start("sleeper", -1, "sh", "-c", "exec sleep 30")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	p.stop()
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("stop took %v", d)
	}
}

func TestPlan(t *testing.T) {
	h := &harness{rounds: 1, warmup: time.Millisecond, duration: time.Millisecond, idleConns: 10, timersN: 10,
		servers: set("gotevent, gnet")}
	var ids []string
	for _, w := range h.plan() {
		ids = append(ids, w.ID)
		if w.kind == "redis" && h.redisBin == "" && w.Skipped == "" {
			t.Errorf("%s: runs without redis-benchmark", w.ID)
		}
		if !slices.Contains(w.servers, w.Base) && skipped(w, w.Base) == "" {
			t.Errorf("%s: the baseline %s was filtered out: %v", w.ID, w.Base, w.servers)
		}
		if w.ID == "pp50" && !slices.Equal(w.servers, []string{"net", "gnet", "gotevent"}) {
			t.Errorf("pp50 servers %v", w.servers)
		}
	}
	want := []string{"pp1", "pp50", "pp1000", "pipe16", "bulk", "accept", "idle", "resp", "resp16", "redis", "redis16",
		"big10k", "big100k", "big1m", "slow", "tls1", "tls16", "handshake", "idletls", "imap", "timers"}
	if !slices.Equal(ids, want) {
		t.Errorf("workloads %v, want %v", ids, want)
	}
}

// A server the machine or the demo build cannot run is marked with the
// reason and left out of the rounds; once available, it runs.
func TestPlanUnavailable(t *testing.T) {
	h := &harness{rounds: 1, idleConns: 10, timersN: 10}
	byID := func() map[string]*workload {
		m := map[string]*workload{}
		for _, w := range h.plan() {
			m[w.ID] = w
		}
		return m
	}
	ws := byID()
	for id, srvs := range map[string][]string{"big1m": {redisServer}, "slow": {redisServer, demoRESPLimits}, "handshake": {demoRESPTLS, redisServerTLS}, "imap": {demoIMAP, demoIMAPHib}} {
		for _, srv := range srvs {
			if slices.Contains(ws[id].servers, srv) || skipped(ws[id], srv) == "" {
				t.Errorf("%s: %s runs, or is not marked: %v", id, srv, ws[id].servers)
			}
		}
	}
	if why := skipped(ws["tls1"], demoRESPTLS); !strings.Contains(why, "not supported by this build") {
		t.Errorf("tls1: %s marked %q", demoRESPTLS, why)
	}
	if got := ws["handshake"].servers; !slices.Equal(got, []string{netRESPTLS}) {
		t.Errorf("handshake servers %v", got)
	}
	h.demo, h.redisServer = demoBuild{tls: true, limits: true, imap: true, hib: true}, "/usr/bin/redis-server"
	ws = byID()
	if got := ws["slow"].servers; !slices.Equal(got, []string{redisServer, demoRESP, demoRESPLimits}) {
		t.Errorf("slow servers %v", got)
	}
	if got := ws["tls16"].servers; !slices.Equal(got, tlsServers) || len(ws["tls16"].Series) != 0 {
		t.Errorf("tls16 servers %v, series %v", got, ws["tls16"].Series)
	}
	if got := ws["imap"].servers; !slices.Equal(got, []string{demoIMAP, demoIMAPHib}) {
		t.Errorf("imap servers %v", got)
	}
}

// skipped is the reason w marks srv with, or "".
func skipped(w *workload, srv string) string {
	for _, s := range w.Series {
		if s.Server == srv {
			return s.Skipped
		}
	}
	return ""
}

// The demo's --help is read for the flags the rows need.
func TestProbeDemo(t *testing.T) {
	dir := t.TempDir()
	demo := filepath.Join(dir, "demo")
	script := `#!/bin/sh
case "$1" in
resp) printf 'usage\n  -listen string\n  -output-soft int\n  -output-hard int\n  -stats\n  -tls-certificate string\n' >&2 ;;
*) echo "unknown command" >&2; exit 2 ;;
esac
`
	if err := os.WriteFile(demo, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	got := probeDemo(demo)
	if want := (demoBuild{limits: true, stats: true}); got != want {
		t.Errorf("probe %+v, want %+v", got, want)
	}
	if d := got.describe(); !strings.Contains(d, "lacks `resp --tls-cert`, `imap`") {
		t.Errorf("describe: %s", d)
	}
}

func TestForeign(t *testing.T) {
	if got := foreign(time.Second, 3*time.Second, 1500*time.Millisecond, time.Second); got != 0.5 {
		t.Errorf("foreign %v, want 0.5", got)
	}
	// Our own processes may be counted a tick more than the machine.
	if got := foreign(time.Second, 2*time.Second, 1010*time.Millisecond, time.Second); got != 0 {
		t.Errorf("foreign %v, want 0", got)
	}
	if got := argAfter([]string{"-c", "50", "-n", "1000"}, "-n"); got != "1000" {
		t.Errorf("argAfter %q", got)
	}
	if got := argAfter([]string{"-n"}, "-n"); got != "" {
		t.Errorf("argAfter of a trailing flag %q", got)
	}
}

// The IMAP targets read the rows' medians: met, missed, or not measured
// when the row did not run.
func TestIMAPTargets(t *testing.T) {
	h := &harness{}
	w := &report.Workload{ID: "imap", Kind: report.IMAP, Base: demoIMAP}
	w.Get(demoIMAP).Samples = []*report.Sample{{Values: map[string]float64{"pss": 3500, "p99": 60e6}}}
	h.workloads = []*report.Workload{w}
	var got []string
	for _, tg := range h.imapTargets() {
		got = append(got, tg.Measured+" "+tg.Verdict)
	}
	want := []string{"3500 B met", " not measured", "60.0 ms missed"}
	if !slices.Equal(want, got) {
		t.Errorf("targets %q, want %q", got, want)
	}
	w.Get(demoIMAPHib).Samples = []*report.Sample{{Values: map[string]float64{"pss": 2000, "hibpss": 1600}}}
	if tg := h.imapTargets()[1]; tg.Measured != "1600 B" || tg.Verdict != "missed" {
		t.Errorf("hibernation target %q %q, want 1600 B missed", tg.Measured, tg.Verdict)
	}
}

// The demo's RESP server is run with --stats, and --cpuprofile when
// profiling, once its build has them, and is then asked for its heap.
func TestDemoStatsArgv(t *testing.T) {
	h := &harness{results: t.TempDir(), bin: "/bin", demo: demoBuild{tls: true}}
	w := &workload{Workload: &report.Workload{ID: "idletls"}}
	argv := strings.Join(h.serverArgv(w, demoRESPTLS, "127.0.0.1:1", 0), " ")
	if strings.Contains(argv, "--stats") || h.answersStats(demoRESPTLS) {
		t.Errorf("a build without --stats: %s, answers stats %v", argv, h.answersStats(demoRESPTLS))
	}
	h.demo.stats, h.demo.cpuprofile, h.profile = true, true, true
	argv = strings.Join(h.serverArgv(w, demoRESPTLS, "127.0.0.1:1", 0), " ")
	prof := filepath.Join(h.results, "prof", "idletls-gotevent-resp-tls-r1.prof")
	if !strings.Contains(argv, "--stats") || !strings.Contains(argv, "--cpuprofile "+prof) || !strings.Contains(argv, "--tls-cert") {
		t.Errorf("argv %s", argv)
	}
	for srv, want := range map[string]bool{demoRESPTLS: true, demoRESP: true, netRESPTLS: true, redisServerTLS: false, demoIMAP: false} {
		if got := h.answersStats(srv); got != want {
			t.Errorf("answersStats(%s) = %v, want %v", srv, got, want)
		}
	}
}
