// Command harness runs the benchmark suite end to end: it builds the
// servers, the load generator and the timer benchmark (and the demo, whose
// RESP server is measured too), runs every server as its own process on
// CPU 1 with GOMAXPROCS=1 and the load generator on CPU 0, alternates the
// servers round by round, measures the server's CPU time from /proc, and
// writes docs/performance.md with a table and an SVG chart per workload.
//
// Run it from tests/bench (make bench does). Environment:
//
//	BENCH_QUICK=1        one short round of everything, written to results/
//	BENCH_ROUNDS=n       rounds (default 5, quick 1)
//	BENCH_ONLY=a,b       only these workloads (ids: pp1 pp50 pp1000 pipe16
//	                     bulk accept idle resp resp16 redis redis16 big10k
//	                     big100k big1m slow tls1 tls16 handshake idletls
//	                     imap timers)
//	BENCH_SERVERS=a,b    only these servers (and the baselines)
//	BENCH_PROFILE=1      CPU profile of every server run, in results/prof
//	BENCH_DOC=path       where to write the document (the charts go to
//	                     perf/ beside it)
//	BENCH_RENDER=1       run nothing: write the document again from
//	                     results/results.json (after editing notes/)
//	BENCH_MERGE=1        with BENCH_ONLY: replace only those workloads in
//	                     results/results.json and write the document from
//	                     the whole (to redo runs that other load spoiled)
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gotevent/gotevent/tests/bench/internal/report"
	"github.com/gotevent/gotevent/tests/bench/internal/tlscert"
)

type harness struct {
	quick     bool
	rounds    int
	warmup    time.Duration
	duration  time.Duration
	idleConns int
	timersN   int
	only      map[string]bool
	servers   map[string]bool
	profile   bool

	bench   string // the bench module's directory
	root    string // the root module's directory
	bin     string // built binaries
	results string
	doc     string
	taskset string

	demo        demoBuild     // what the demo binary offers (probeDemo)
	redisBin    string        // redis-benchmark
	redisServer string        // redis-server, a peer of the RESP rows
	cert        tlscert.Files // the TLS rows' certificate, in results/
	workloads   []*report.Workload
	meta        meta
}

// meta is what the document says about the run besides its samples.
type meta struct {
	Started  time.Time     `json:"started"`
	Took     time.Duration `json:"took"`
	Quick    bool          `json:"quick"`
	Rounds   int           `json:"rounds"`
	Warmup   time.Duration `json:"warmup"`
	Duration time.Duration `json:"duration"`
	Pinned   bool          `json:"pinned"`
	DemoHow  string        `json:"demo_how"`
	Redis    string        `json:"redis,omitempty"` // redis-server --version, when installed
	Rerun    []string      `json:"rerun,omitempty"` // workloads run again later (BENCH_MERGE)
}

// saved is results/results.json.
type saved struct {
	Meta      meta               `json:"meta"`
	Workloads []*report.Workload `json:"workloads"`
}

func main() {
	// Many short rounds rather than few long ones: the VM's speed drifts
	// over minutes (every server at once), and interleaving finely spreads
	// that over all of them.
	h := &harness{rounds: 5, warmup: 500 * time.Millisecond, duration: 1500 * time.Millisecond,
		idleConns: 10000, timersN: 1_000_000}
	flag.BoolVar(&h.quick, "quick", os.Getenv("BENCH_QUICK") == "1", "one short round (BENCH_QUICK=1)")
	flag.Parse()
	if h.quick {
		h.rounds, h.warmup, h.duration, h.idleConns, h.timersN = 1, 300*time.Millisecond, time.Second, 2000, 200_000
	}
	if s := os.Getenv("BENCH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fail(fmt.Errorf("BENCH_ROUNDS=%q", s))
		}
		h.rounds = n
	}
	h.only = set(os.Getenv("BENCH_ONLY"))
	h.servers = set(os.Getenv("BENCH_SERVERS"))
	h.profile = os.Getenv("BENCH_PROFILE") == "1"
	if err := h.run(); err != nil {
		fail(err)
	}
}

func set(s string) map[string]bool {
	if s == "" {
		return nil
	}
	m := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		m[strings.TrimSpace(f)] = true
	}
	return m
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "harness:", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (h *harness) run() error {
	h.meta = meta{Started: time.Now(), Quick: h.quick, Rounds: h.rounds, Warmup: h.warmup, Duration: h.duration}
	var err error
	if h.bench, err = os.Getwd(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(h.bench, "cmd", "harness")); err != nil {
		return errors.New("run the harness from tests/bench")
	}
	h.root = filepath.Clean(filepath.Join(h.bench, "..", ".."))
	h.results = filepath.Join(h.bench, "results")
	h.bin = filepath.Join(h.bench, "bin")
	h.doc = os.Getenv("BENCH_DOC")
	if h.doc == "" {
		h.doc = filepath.Join(h.root, "docs", "performance.md")
		if h.quick {
			h.doc = filepath.Join(h.results, "performance.md")
		}
	}
	if os.Getenv("BENCH_RENDER") == "1" {
		return h.render()
	}
	for _, d := range []string{h.results, h.bin, filepath.Join(h.results, "prof")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if p, err := exec.LookPath("taskset"); err == nil {
		h.taskset = p
		h.meta.Pinned = true
	} else {
		logf("taskset not found (util-linux): processes will not be pinned")
	}
	if p, err := exec.LookPath("redis-benchmark"); err == nil {
		h.redisBin = p
	}
	if p, err := exec.LookPath("redis-server"); err == nil {
		h.redisServer = p
		if out, err := exec.Command(p, "--version").Output(); err == nil {
			h.meta.Redis = strings.TrimSpace(string(out))
		}
	}
	if h.cert, err = tlscert.Write(h.results); err != nil {
		return err
	}
	raiseNoFile()
	var merged *saved
	if os.Getenv("BENCH_MERGE") == "1" {
		if h.only == nil {
			return errors.New("BENCH_MERGE=1 needs BENCH_ONLY")
		}
		sv, err := h.load()
		if err != nil {
			return err
		}
		merged = sv
	}
	if err := h.build(); err != nil {
		return err
	}
	if h.taskset != "" {
		if err := pinSelf(0); err != nil {
			logf("cannot pin the harness to CPU 0: %v", err)
		}
	}
	for _, w := range h.plan() {
		if h.only != nil && !h.only[w.ID] {
			continue
		}
		h.workloads = append(h.workloads, w.Workload)
		if w.Skipped == "" {
			h.runWorkload(w)
		} else {
			logf("%s: skipped: %s", w.ID, w.Skipped)
		}
		if err := h.saveResults(); err != nil {
			return err
		}
	}
	h.meta.Took = time.Since(h.meta.Started).Round(time.Second)
	if merged != nil {
		// Keep the first run's date and settings; list every workload in
		// its usual place, the ones just run replacing the old ones.
		var ws []*report.Workload
		for _, old := range merged.Workloads {
			w := old
			for _, nw := range h.workloads {
				if nw.ID == old.ID {
					w = nw
				}
			}
			ws = append(ws, w)
		}
		for _, nw := range h.workloads {
			if !slices.ContainsFunc(ws, func(w *report.Workload) bool { return w.ID == nw.ID }) {
				ws = append(ws, nw)
			}
		}
		merged.Meta.Took += h.meta.Took
		merged.Meta.Rerun = append(merged.Meta.Rerun, fmt.Sprintf("%s at %s", strings.Join(slices.Sorted(maps.Keys(h.only)), ", "), h.meta.Started.UTC().Format("15:04 MST")))
		h.meta, h.workloads = merged.Meta, ws
	}
	if err := h.saveResults(); err != nil {
		return err
	}
	if err := h.writeDoc(); err != nil {
		return err
	}
	logf("done in %v; wrote %s", h.meta.Took, h.doc)
	return nil
}

func (h *harness) load() (*saved, error) {
	b, err := os.ReadFile(filepath.Join(h.results, "results.json"))
	if err != nil {
		return nil, err
	}
	var sv saved
	if err := json.Unmarshal(b, &sv); err != nil {
		return nil, err
	}
	return &sv, nil
}

// render writes the document again from results/results.json.
func (h *harness) render() error {
	sv, err := h.load()
	if err != nil {
		return err
	}
	h.meta, h.workloads = sv.Meta, sv.Workloads
	if os.Getenv("BENCH_DOC") == "" && h.meta.Quick {
		h.doc = filepath.Join(h.results, "performance.md")
	}
	if err := h.writeDoc(); err != nil {
		return err
	}
	logf("wrote %s from %s", h.doc, filepath.Join(h.results, "results.json"))
	return nil
}

// build builds the bench binaries and the demo, cmd/tsocket-demo, whose
// resp command is the gotevent RESP server measured. All are built from
// this module: the demo's packages live beside cmd/tsocket-demo, not in
// the root's internal/, and the replace directive builds them from the
// working tree.
func (h *harness) build() error {
	logf("building into %s", h.bin)
	if err := goBuild(h.bench, nil, "-o", h.bin+"/", "./cmd/server", "./cmd/loadgen", "./cmd/timers", demoPkg); err != nil {
		return err
	}
	demo := filepath.Join(h.bin, "tsocket-demo")
	if !h.probe(demo, "resp", "--listen") {
		return fmt.Errorf("%s resp --listen ADDR did not serve", demo)
	}
	h.demo = probeDemo(demo)
	h.meta.DemoHow = h.demo.describe()
	logf("demo: %s", h.meta.DemoHow)
	return nil
}

// demoPkg is the demo, built into tsocket-demo.
const demoPkg = "github.com/gotevent/gotevent/cmd/tsocket-demo"

// probe checks that argv... ADDR serves within a few seconds.
func (h *harness) probe(argv ...string) bool {
	addr, err := freePort()
	if err != nil {
		return false
	}
	p, err := h.start("probe", -1, append(argv, addr)...)
	if err != nil {
		return false
	}
	defer p.stop()
	return waitListening(addr, 5*time.Second) == nil
}

func goBuild(dir string, env []string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s in %s: %w\n%s", strings.Join(args, " "), dir, err, out)
	}
	return nil
}

func (h *harness) saveResults() error {
	b, err := json.MarshalIndent(saved{Meta: h.meta, Workloads: h.workloads}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(h.results, "results.json"), b, 0o644)
}
