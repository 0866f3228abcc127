package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gotevent/gotevent/tests/bench/internal/load"
	"github.com/gotevent/gotevent/tests/bench/internal/procstat"
	"github.com/gotevent/gotevent/tests/bench/internal/report"
	"github.com/gotevent/gotevent/tests/bench/internal/tlscert"
	"golang.org/x/sys/unix"
)

// The echo servers, in the order each round runs them.
var echoServers = []string{"net", "gnet", "nbio", "netpoll", "gotevent", "gotevent-pdu", "gotevent-mask"}

const (
	serverCPU = 1
	clientCPU = 0
)

type workload struct {
	*report.Workload
	servers []string
	mode    string   // the server's -mode
	args    []string // loadgen arguments, or redis-benchmark's
	kind    string   // "load", "idle", "redis", "slow", "timers"
	conns   int      // idle: connections held
}

func (h *harness) plan() []*workload {
	ms := func(d time.Duration) string { return d.String() }
	timing := []string{"-warmup", ms(h.warmup), "-duration", ms(h.duration)}
	lw := func(id, title, unit, note, mode string, servers []string, args ...string) *workload {
		return &workload{Workload: &report.Workload{ID: id, Title: title, Kind: report.Load, Unit: unit, Base: servers[0], Note: note},
			servers: servers, mode: mode, args: append(args, timing...), kind: "load"}
	}
	respServers := []string{"net-resp", demoRESP}
	redisN := 200_000
	if h.quick {
		redisN = 40_000
	}
	ws := []*workload{
		lw("pp1", "Echo, 64 B ping-pong, 1 connection", "msg",
			"One connection sends 64 bytes and waits for their echo. Latency-bound: neither side is busy; the CPU per message is what counts.",
			"echo", echoServers, "-mode", "pingpong", "-conns", "1", "-size", "64"),
		lw("pp50", "Echo, 64 B ping-pong, 50 connections", "msg",
			"50 connections, each with one 64-byte message in flight.",
			"echo", echoServers, "-mode", "pingpong", "-conns", "50", "-size", "64"),
		lw("pp1000", "Echo, 64 B ping-pong, 1000 connections", "msg",
			"1000 connections, each with one 64-byte message in flight.",
			"echo", echoServers, "-mode", "pingpong", "-conns", "1000", "-size", "64"),
		lw("pipe16", "Echo, 64 B pipelined 16 deep, 50 connections", "msg",
			"50 connections, each writing 16 messages of 64 bytes at once and waiting for all 16 echoes.",
			"echo", echoServers, "-mode", "pingpong", "-conns", "50", "-size", "64", "-depth", "16"),
		lw("bulk", "Bulk, 1 MiB one-way", "MiB",
			"One connection writes without pause; the server reads everything and acknowledges each whole MiB with one byte. Read buffers are 16 KiB where the library lets us choose.",
			"sink", echoServers, "-mode", "bulk", "-conns", "1"),
		lw("accept", "Accept rate, RST close", "conn",
			"32 connections at a time: connect, send one byte, read its echo, close with SO_LINGER 0 (RST, no TIME_WAIT). A message is a whole connection.",
			"echo", echoServers, "-mode", "connect", "-conns", "32"),
		{Workload: &report.Workload{ID: "idle", Title: fmt.Sprintf("Idle memory, %d connections", h.idleConns), Kind: report.Idle, Base: "net",
			Note: fmt.Sprintf("%d connections each send one 64-byte message, read its echo and stay open. The server reports its Go heap (live, after two GCs) and goroutine stacks before and after; RSS is from /proc. Figures are per connection.", h.idleConns)},
			servers: echoServers, mode: "echo", kind: "idle", conns: h.idleConns,
			args: []string{"-mode", "idle", "-conns", strconv.Itoa(h.idleConns), "-size", "64", "-dial", "256"}},
		lw("resp", "RESP, SET/GET ping-pong, 50 connections", "req",
			"The demo's RESP server (gotevent-resp) against the same server written on Go net (net-resp, with the demo's own parser and store). 50 connections send SET and GET by turns, one in flight.",
			"resp", respServers, "-mode", "pingpong", "-conns", "50", "-proto", "resp"),
		lw("resp16", "RESP, SET/GET pipelined 16 deep, 50 connections", "req",
			"As above with 16 commands written at once per connection.",
			"resp", respServers, "-mode", "pingpong", "-conns", "50", "-proto", "resp", "-depth", "16"),
		{Workload: &report.Workload{ID: "redis", Title: "redis-benchmark, SET and GET, 50 connections", Kind: report.Load, Unit: "req", Base: "net-resp",
			Note: fmt.Sprintf("`redis-benchmark -c 50 -n %d -t set,get` on CPU 0; the rate is requests over the whole run's wall time.", redisN)},
			servers: respServers, mode: "resp", kind: "redis", args: []string{"-c", "50", "-n", strconv.Itoa(redisN), "-t", "set,get", "-q", "--csv"}},
		{Workload: &report.Workload{ID: "redis16", Title: "redis-benchmark, SET and GET, 50 connections, pipelined 16", Kind: report.Load, Unit: "req", Base: "net-resp",
			Note: fmt.Sprintf("`redis-benchmark -c 50 -n %d -t set,get -P 16` on CPU 0.", redisN*4)},
			servers: respServers, mode: "resp", kind: "redis", args: []string{"-c", "50", "-n", strconv.Itoa(redisN * 4), "-t", "set,get", "-P", "16", "-q", "--csv"}},
	}
	ws = append(ws, h.largeValues()...)
	ws = append(ws, h.slowConsumer())
	ws = append(ws, h.tlsRows(timing)...)
	ws = append(ws, h.imapIdle())
	ws = append(ws, []*workload{
		{Workload: &report.Workload{ID: "timers", Title: fmt.Sprintf("Timers, %s armed, half cancelled, the rest fired", report.Human(float64(h.timersN))), Kind: report.Timers, Unit: "timer", Base: "afterfunc",
			Note: "One process on CPU 1 with GOMAXPROCS=1 arms the timers (deadlines 2 s ahead, spread over 100 ms), cancels every other one and runs until the rest have fired: one gotevent loop against time.AfterFunc. CPU is the process's user+system time for the whole; allocations are counted while the timers fire."},
			servers: []string{"afterfunc", "gotevent"}, kind: "timers", args: []string{"-n", strconv.Itoa(h.timersN)}},
	}...)
	for _, w := range ws {
		if w.kind == "redis" && h.redisBin == "" {
			w.Skipped = "redis-benchmark is not installed (apt-get install redis-tools)."
		}
		var keep []string
		for _, s := range w.servers {
			if h.servers != nil && !h.servers[s] && s != w.Base {
				continue
			}
			if why := h.unavailable(s); why != "" {
				w.Get(s).Skipped = why
				continue
			}
			keep = append(keep, s)
		}
		w.servers = keep
	}
	return ws
}

// The RESP servers of the large-value and slow-consumer rows (issue 13)
// and of the TLS rows (issue 14).
var (
	bigServers = []string{"net-resp", demoRESP, redisServer}
	tlsServers = []string{netRESPTLS, demoRESPTLS, redisServerTLS}
)

// largeValues are redis-benchmark's SET and GET with large values, 20
// connections: -n is chosen per size so that each test lasts a few
// seconds (rates measured here: 20-60k/s at 10 kB, 12-25k/s at 100 kB,
// 1.5-3k/s at 1 MB).
func (h *harness) largeValues() []*workload {
	var ws []*workload
	for _, v := range []struct {
		id, size string
		bytes, n int
	}{
		{"big10k", "10 kB", 10_000, 60_000},
		{"big100k", "100 kB", 100_000, 20_000},
		{"big1m", "1 MB", 1_000_000, 2_500},
	} {
		n := v.n
		if h.quick {
			n /= 5
		}
		ws = append(ws, &workload{Workload: &report.Workload{ID: v.id, Title: "redis-benchmark, SET and GET of " + v.size + " values, 20 connections",
			Kind: report.Load, Unit: "req", Base: "net-resp",
			Note: fmt.Sprintf("`redis-benchmark -c 20 -n %d -d %d -t set,get` on CPU 0, against the demo, net-resp and redis-server "+
				"(`--save \"\" --appendonly no`), each on CPU 1; the rate is requests over the whole run's wall time.", n, v.bytes)},
			servers: bigServers, mode: "resp", kind: "redis",
			args: []string{"-c", "20", "-n", strconv.Itoa(n), "-d", strconv.Itoa(v.bytes), "-t", "set,get", "-q", "--csv"}})
	}
	return ws
}

// slowConsumer is one client that SETs a 1 MiB value and pipelines GETs
// of it without reading, while another PINGs once a second.
func (h *harness) slowConsumer() *workload {
	gets, d := 3000, 8*time.Second
	if h.quick {
		gets, d = 300, 3*time.Second
	}
	return &workload{Workload: &report.Workload{ID: "slow", Title: fmt.Sprintf("Slow consumer: %d GETs of a 1 MiB value, never read", gets),
		Kind: report.Slow, Base: redisServer,
		Note: fmt.Sprintf("One connection SETs a 1 MiB value, then writes %d `GET` of it at once and reads nothing for %v; another sends a PING every second "+
			"and times the reply. RSS growth is the server's peak VmRSS over that time, polled every 20 ms, less its RSS just before the GETs. "+
			"redis-server runs with its default client-output-buffer-limit (none for normal clients); gotevent-resp with the demo's defaults, "+
			"gotevent-resp-limits with `--output-soft %d --output-hard %d` (Redis's pubsub limits).", gets, d, outputSoft, outputHard)},
		servers: []string{redisServer, demoRESP, demoRESPLimits}, mode: "resp", kind: "slow",
		args: []string{"-mode", "slow", "-value", strconv.Itoa(1 << 20), "-gets", strconv.Itoa(gets), "-duration", d.String(), "-ping-every", "1s"}}
}

// imapIdle is the IMAP row (issue 16): many sessions in IDLE, then one
// new message.
func (h *harness) imapIdle() *workload {
	conns, watch := 10_000, 1000
	if h.quick {
		conns, watch = 1000, 500
	}
	return &workload{Workload: &report.Workload{ID: "imap", Title: fmt.Sprintf("IMAP: %d sessions in IDLE, then new mail", conns), Kind: report.IMAP, Base: demoIMAP,
		Note: fmt.Sprintf("%d connections to `tsocket-demo imap` each LOGIN demo demo, SELECT INBOX and IDLE (64 logging in at a time); the server's PSS "+
			"(/proc/PID/smaps_rollup, so a hibernation helper's shared pages are not counted twice) and RSS are read before and once all idle, "+
			"per connection. gotevent-imap-hibernate runs with `--hibernate-after %s`: its figures are read %v after the hibernation process "+
			"holds every connection (its descriptors counted in /proc; both processes give back the memory a hand-over left a second after it), "+
			"PSS and RSS being the server's growth plus the whole hibernation process, "+
			"and \"hibernation process\" that process alone, per connection. Then one more connection APPENDs a message, and %d of the idlers time how long after the APPEND's tagged OK "+
			"their `* n EXISTS` arrives (0 when it arrived first). The client is one goroutine per timed idler on CPU 0, so the spread includes its own wake-ups.", conns, hibernateAfter, hibernateSettle, watch)},
		servers: []string{demoIMAP, demoIMAPHib}, kind: "imap", conns: conns,
		args: []string{"-mode", "imap", "-conns", strconv.Itoa(conns), "-watch", strconv.Itoa(watch), "-dial", "64", "-duration", "10s"}}
}

// tlsRows are the TLS RESP rows: redis-benchmark --tls, handshakes, and
// idle TLS connections, all with the certificate written at start.
func (h *harness) tlsRows(timing []string) []*workload {
	n, idle := 60_000, 2000
	if h.quick {
		n, idle = 12_000, 1000
	}
	tlsArgs := []string{"--tls", "--cacert", h.cert.Cert, "--sni", tlscert.ServerName}
	rb := func(id, title, note string, args ...string) *workload {
		return &workload{Workload: &report.Workload{ID: id, Title: title, Kind: report.Load, Unit: "req", Base: netRESPTLS, Note: note},
			servers: tlsServers, mode: "resp", kind: "redis", args: append(append(args, tlsArgs...), "-t", "set,get", "-q", "--csv")}
	}
	return []*workload{
		rb("tls1", "TLS: redis-benchmark, SET and GET, 50 connections",
			fmt.Sprintf("`redis-benchmark --tls -c 50 -n %d -t set,get` on CPU 0 against net-resp-tls (net-resp on crypto/tls), the demo with "+
				"`--tls-cert --tls-key` and redis-server with `--tls-port --port 0 --tls-auth-clients no`; one ECDSA P-256 certificate for all, "+
				"made at start. The connections are opened once, so this is the cost of TLS records, not of handshakes.", n),
			"-c", "50", "-n", strconv.Itoa(n)),
		rb("tls16", "TLS: redis-benchmark, SET and GET, 50 connections, pipelined 16",
			fmt.Sprintf("As above with `-P 16 -n %d`.", n*4),
			"-c", "50", "-n", strconv.Itoa(n*4), "-P", "16"),
		{Workload: &report.Workload{ID: "handshake", Title: "TLS 1.3 handshakes, ECDSA P-256", Kind: report.Load, Unit: "handshake", Base: netRESPTLS,
			Note: "16 connections at a time: connect, a full TLS 1.3 handshake (X25519, the ECDSA P-256 certificate verified against itself as the root; " +
				"no session resumption), one PING and its reply, close (RST). The client is crypto/tls on CPU 0 and costs about as much per handshake as " +
				"the server, so the servers are not saturated: read the CPU column; handshakes per CPU second are 1 s divided by it."},
			servers: tlsServers, mode: "resp", kind: "load",
			args: append([]string{"-mode", "connect", "-conns", "16", "-proto", "ping", "-tls-ca", h.cert.Cert}, timing...)},
		{Workload: &report.Workload{ID: "idletls", Title: fmt.Sprintf("Idle memory, %d TLS connections", idle), Kind: report.Idle, Base: netRESPTLS,
			Note: fmt.Sprintf("%d connections each complete a TLS 1.3 handshake, send one PING, read the reply and stay open. net-resp-tls reports "+
				"its Go heap and stacks as in the idle row, and so does the demo (`resp --stats`); redis-server reports nothing, so only its RSS is given. Figures are per connection.", idle)},
			servers: tlsServers, mode: "resp", kind: "idle", conns: idle,
			args: []string{"-mode", "idle", "-conns", strconv.Itoa(idle), "-proto", "ping", "-dial", "32", "-tls-ca", h.cert.Cert}},
	}
}

// The machine may be shared: other processes' CPU use during a window
// ("foreign", in cores) is measured, a sample taken under more than
// maxForeign is retried up to maxTries times, and the quietest one is kept.
const (
	maxForeign  = 0.15
	maxTries    = 3
	retryBudget = 25 * time.Minute
)

func (h *harness) runWorkload(w *workload) {
	for r := range h.rounds {
		for _, srv := range w.servers {
			var best *report.Sample
			for try := 1; try <= maxTries; try++ {
				// Past the time budget, measure as things are: make bench
				// must stay bounded.
				late := time.Since(h.meta.Started) > retryBudget
				if !late {
					waitQuiet()
				}
				t0 := time.Now()
				s, err := h.sample(w, srv, r)
				if err != nil {
					s = &report.Sample{Err: err.Error()}
					logf("%s %s round %d: %v", w.ID, srv, r+1, err)
				} else {
					logf("%s %s round %d: %s (%v)", w.ID, srv, r+1, describe(s), time.Since(t0).Round(time.Millisecond))
				}
				if best == nil || best.Err != "" || (s.Err == "" && s.Values["foreign"] < best.Values["foreign"]) {
					best = s
				}
				if late || (best.Err == "" && best.Values["foreign"] <= maxForeign) {
					break
				}
				if try < maxTries {
					logf("%s %s round %d: other processes used the CPUs; trying again", w.ID, srv, r+1)
				}
			}
			best.Round = r
			w.Get(srv).Samples = append(w.Get(srv).Samples, best)
		}
	}
}

// waitQuiet waits, up to 20 seconds, until the machine's CPU use by anything
// is under maxForeign cores over a quarter second.
func waitQuiet() {
	end := time.Now().Add(20 * time.Second)
	for time.Now().Before(end) {
		b0, err := procstat.Busy()
		if err != nil {
			return
		}
		time.Sleep(250 * time.Millisecond)
		b1, err := procstat.Busy()
		if err != nil || (b1-b0).Seconds()/0.25 <= maxForeign {
			return
		}
	}
	logf("the machine stayed busy for 20 s; measuring anyway")
}

// foreign is the CPU, in cores, used during a window of wall time by
// processes other than those measured.
func foreign(busy0, busy1 time.Duration, ours time.Duration, wall time.Duration) float64 {
	return max(0, (busy1-busy0-ours).Seconds()/wall.Seconds())
}

func describe(s *report.Sample) string {
	var parts []string
	for _, k := range []string{"rate", "cpu", "sutil", "cutil", "heapstack", "pss", "rss", "pingmax", "taken", "dropped", "p50", "p99", "max", "allocs", "foreign"} {
		if v, ok := s.Values[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%s", k, report.Human(v)))
		}
	}
	return strings.Join(parts, " ")
}

func (h *harness) sample(w *workload, srv string, round int) (*report.Sample, error) {
	if w.kind == "timers" {
		return h.timersSample(w, srv)
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	sp, err := h.startServer(w, srv, addr, round)
	if err != nil {
		return nil, err
	}
	defer sp.stop()
	switch w.kind {
	case "idle":
		return h.idleSample(w, sp, addr)
	case "redis":
		return h.redisSample(w, sp, addr)
	case "slow":
		return h.slowSample(w, sp, addr)
	case "imap":
		return h.imapSample(w, srv, sp, addr)
	}
	return h.loadSample(w, sp, addr)
}

func (h *harness) startServer(w *workload, srv, addr string, round int) (*proc, error) {
	sp, err := h.start(srv, serverCPU, h.serverArgv(w, srv, addr, round)...)
	if err != nil {
		return nil, err
	}
	sp.term = external(srv)
	sp.hasStats = h.answersStats(srv)
	if !sp.term {
		line, err := sp.next(15 * time.Second)
		if err == nil && !strings.HasPrefix(line, "READY ") {
			err = fmt.Errorf("%s: unexpected %q", srv, line)
		}
		if err != nil {
			sp.stop()
			return nil, err
		}
	}
	if err := waitListening(addr, 10*time.Second); err != nil {
		sp.stop()
		return nil, fmt.Errorf("%s: %w", srv, err)
	}
	return sp, nil
}

func (h *harness) loadgen(args ...string) (*proc, error) {
	return h.start("loadgen", clientCPU, append([]string{filepath.Join(h.bin, "loadgen")}, args...)...)
}

// loadgenUntil starts the load generator on w's arguments and waits, up
// to d, for its first line, which must start with tag; the caller stops it.
func (h *harness) loadgenUntil(w *workload, addr, tag string, d time.Duration) (*proc, error) {
	lg, err := h.loadgen(append([]string{"-addr", addr}, w.args...)...)
	if err != nil {
		return nil, err
	}
	line, err := lg.next(d)
	if err == nil && !strings.HasPrefix(line, tag) {
		err = fmt.Errorf("loadgen: unexpected %q", line)
	}
	if err != nil {
		lg.stop()
		return nil, err
	}
	return lg, nil
}

// decodeLine decodes the JSON after tag in a loadgen line into v.
func decodeLine(line, tag string, v any) error {
	rest, ok := strings.CutPrefix(line, tag)
	if !ok {
		return fmt.Errorf("loadgen: unexpected %q", line)
	}
	return json.Unmarshal([]byte(rest), v)
}

func (h *harness) loadSample(w *workload, sp *proc, addr string) (*report.Sample, error) {
	lg, err := h.loadgen(append([]string{"-addr", addr}, w.args...)...)
	if err != nil {
		return nil, err
	}
	defer lg.stop()
	var cpu0, cpu1, busy0, busy1 time.Duration
	var t0, t1 time.Time
	var res load.Result
	limit := h.warmup + h.duration + 90*time.Second
	for {
		line, err := lg.next(limit)
		if err != nil {
			return nil, err
		}
		if line == "START" {
			if cpu0, err = procstat.CPU(sp.pid()); err != nil {
				return nil, err
			}
			busy0, _ = procstat.Busy()
			t0 = time.Now()
			continue
		}
		if rest, ok := strings.CutPrefix(line, "STOP "); ok {
			if cpu1, err = procstat.CPU(sp.pid()); err != nil {
				return nil, err
			}
			busy1, _ = procstat.Busy()
			t1 = time.Now()
			if err := json.Unmarshal([]byte(rest), &res); err != nil {
				return nil, err
			}
			break
		}
	}
	if err := lg.wait(10 * time.Second); err != nil {
		return nil, err
	}
	if res.Msgs == 0 {
		return nil, errors.New("no message completed in the window")
	}
	scpu := cpu1 - cpu0
	return &report.Sample{Values: map[string]float64{
		"rate":    float64(res.Msgs) / res.Elapsed.Seconds(),
		"cpu":     float64(scpu.Nanoseconds()) / float64(res.Msgs),
		"sutil":   scpu.Seconds() / t1.Sub(t0).Seconds(),
		"cutil":   res.ClientCPU.Seconds() / res.Elapsed.Seconds(),
		"foreign": foreign(busy0, busy1, scpu+res.ClientCPU, t1.Sub(t0)),
	}}, nil
}

// serverStats is the bench server's answer to "stats".
type serverStats struct {
	HeapAlloc  uint64 `json:"heap_alloc"`
	StackInuse uint64 `json:"stack_inuse"`
}

func (sp *proc) stats() (serverStats, error) {
	var st serverStats
	if err := sp.send("stats"); err != nil {
		return st, err
	}
	line, err := sp.next(30 * time.Second)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal([]byte(line), &st)
}

// idleSample measures the memory w.conns idle connections cost: Go heap
// and stacks where the server reports them (cmd/server's "stats", the
// demo's resp --stats), RSS always.
func (h *harness) idleSample(w *workload, sp *proc, addr string) (*report.Sample, error) {
	var st0, st1 serverStats
	var err error
	if sp.hasStats {
		if st0, err = sp.stats(); err != nil {
			return nil, err
		}
	}
	rss0, err := procstat.RSS(sp.pid())
	if err != nil {
		return nil, err
	}
	lg, err := h.loadgenUntil(w, addr, "HOLD ", 120*time.Second)
	if err != nil {
		return nil, err
	}
	defer lg.stop()
	if sp.hasStats {
		if st1, err = sp.stats(); err != nil {
			return nil, err
		}
	}
	rss1, err := procstat.RSS(sp.pid())
	if err != nil {
		return nil, err
	}
	_ = lg.send("done")
	if err := lg.wait(30 * time.Second); err != nil {
		return nil, err
	}
	n := float64(w.conns)
	s := &report.Sample{Values: map[string]float64{"rss": float64(rss1-rss0) / n}}
	if sp.hasStats {
		s.Values["heapstack"] = float64(int64(st1.HeapAlloc+st1.StackInuse)-int64(st0.HeapAlloc+st0.StackInuse)) / n
	}
	return s, nil
}

// slowSample runs loadgen -mode slow: the server's RSS is read when the
// loadgen has set the value and waits, then polled until the run ends.
func (h *harness) slowSample(w *workload, sp *proc, addr string) (*report.Sample, error) {
	lg, err := h.loadgenUntil(w, addr, "START", 60*time.Second)
	if err != nil {
		return nil, err
	}
	defer lg.stop()
	rss0, err := procstat.RSS(sp.pid())
	if err != nil {
		return nil, err
	}
	if err := lg.send("go"); err != nil {
		return nil, err
	}
	peak := rss0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(5 * time.Minute)
	var res load.SlowResult
	for stopped := false; !stopped; {
		select {
		case line, ok := <-lg.lines:
			if !ok {
				return nil, lg.exitErr()
			}
			if err := decodeLine(line, "STOP ", &res); err != nil {
				return nil, err
			}
			stopped = true
		case <-tick.C:
			if rss, err := procstat.RSS(sp.pid()); err == nil {
				peak = max(peak, rss)
			}
		case <-limit:
			return nil, errors.New("loadgen: the slow consumer did not end in 5 minutes")
		}
	}
	if err := lg.wait(10 * time.Second); err != nil {
		return nil, err
	}
	v := map[string]float64{
		"rss":     float64(peak - rss0),
		"pingmax": float64(res.PingMax.Nanoseconds()),
		"late":    float64(res.Late),
		"taken":   float64(res.Written) / float64(max(1, res.Total)),
		"dropped": 0,
	}
	if res.Dropped {
		v["dropped"] = 1
	}
	return &report.Sample{Values: v}, nil
}

// imapSample reads the server's PSS and RSS before the sessions open and
// once they all idle (with hibernation: once the hibernation process holds
// them all, adding that process's), then lets the loadgen append the new
// mail.
func (h *harness) imapSample(w *workload, srv string, sp *proc, addr string) (*report.Sample, error) {
	mem := func(pid int) (pss, rss int64, err error) {
		if pss, err = procstat.PSS(pid); err == nil {
			rss, err = procstat.RSS(pid)
		}
		return pss, rss, err
	}
	pss0, rss0, err := mem(sp.pid())
	if err != nil {
		return nil, err
	}
	lg, err := h.loadgenUntil(w, addr, "HOLD ", 5*time.Minute)
	if err != nil {
		return nil, err
	}
	defer lg.stop()
	var childPSS, childRSS int64
	if srv == demoIMAPHib {
		child, err := awaitHibernated(sp.pid(), w.conns, 2*time.Minute)
		if err != nil {
			return nil, err
		}
		time.Sleep(hibernateSettle)
		if childPSS, childRSS, err = mem(child); err != nil {
			return nil, err
		}
	}
	pss1, rss1, err := mem(sp.pid())
	if err != nil {
		return nil, err
	}
	pss1, rss1 = pss1+childPSS, rss1+childRSS
	if err := lg.send("go"); err != nil {
		return nil, err
	}
	line, err := lg.next(2 * time.Minute)
	if err != nil {
		return nil, err
	}
	var res load.IMAPResult
	if err := decodeLine(line, "STOP ", &res); err != nil {
		return nil, err
	}
	if err := lg.wait(30 * time.Second); err != nil {
		return nil, err
	}
	if res.Told == 0 {
		return nil, fmt.Errorf("none of the %d timed idlers saw the new mail", res.Watched)
	}
	n := float64(w.conns)
	v := map[string]float64{
		"pss":  float64(pss1-pss0) / n,
		"rss":  float64(rss1-rss0) / n,
		"p50":  float64(res.P50.Nanoseconds()),
		"p99":  float64(res.P99.Nanoseconds()),
		"max":  float64(res.Max.Nanoseconds()),
		"told": float64(res.Told) / float64(max(1, res.Watched)),
	}
	if srv == demoIMAPHib {
		v["hibpss"] = float64(childPSS) / n
	}
	return &report.Sample{Values: v}, nil
}

// imapTargets are issue 16's targets for the imap rows: memory per IDLE
// connection at 10 000 connections, of the server without hibernation and
// of the hibernation process, and the new-mail latency.
func (h *harness) imapTargets() []report.Target {
	var ts []report.Target
	for _, t := range []struct {
		name, srv, metric string
		limit             float64
		format            func(float64) string
	}{
		{demoIMAP + ": ≤ 4 KiB of PSS per IDLE connection at 10 000 connections", demoIMAP, "pss", 4 << 10, report.Bytes},
		{demoIMAPHib + ": ≤ 1.5 KiB of the hibernation process's PSS per IDLE connection", demoIMAPHib, "hibpss", 1536, report.Bytes},
		{demoIMAP + ": new mail p99 ≤ 50 ms after the APPEND's OK", demoIMAP, "p99", 50e6, report.Nanos},
	} {
		tg := report.Target{Name: t.name, Verdict: "not measured"}
		if w := h.workload("imap"); w != nil {
			for _, s := range w.Series {
				if st, ok := s.Stat(t.metric); ok && s.Server == t.srv {
					tg.Measured = t.format(st.Med)
					tg.Verdict = map[bool]string{true: "met", false: "missed"}[st.Med <= t.limit]
				}
			}
		}
		ts = append(ts, tg)
	}
	return ts
}

// hibernateSettle is how long after the hand-overs the hibernation row's
// memory is read: the demo returns what they left behind a second after
// (imap.Config.ReturnMemory), and this is the steady state a server
// holding hibernated connections for minutes is in.
const hibernateSettle = 2 * time.Second

// awaitHibernated waits until the hibernation process that the server
// pid started holds conns descriptors (one a connection, besides its
// own few), and returns its pid.
func awaitHibernated(pid, conns int, d time.Duration) (int, error) {
	held, end := 0, time.Now().Add(d)
	for {
		kids, err := procstat.Children(pid)
		if err != nil {
			return 0, err
		}
		for _, kid := range kids {
			if n, err := procstat.FDs(kid); err == nil {
				held = n
				if n >= conns {
					return kid, nil
				}
			}
		}
		if time.Now().After(end) {
			return 0, fmt.Errorf("after %v the hibernation process holds %d descriptors, not the %d connections (children %v)", d, held, conns, kids)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (h *harness) redisSample(w *workload, sp *proc, addr string) (*report.Sample, error) {
	host, port, _ := net.SplitHostPort(addr)
	argv := append([]string{h.redisBin, "-h", host, "-p", port}, w.args...)
	if h.taskset != "" {
		argv = append([]string{h.taskset, "-c", strconv.Itoa(clientCPU)}, argv...)
	}
	cpu0, err := procstat.CPU(sp.pid())
	if err != nil {
		return nil, err
	}
	busy0, _ := procstat.Busy()
	t0 := time.Now()
	cmd := exec.Command(argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	t1 := time.Now()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark: %w: %s", err, strings.TrimSpace(string(out)))
	}
	cpu1, err := procstat.CPU(sp.pid())
	if err != nil {
		return nil, err
	}
	busy1, _ := procstat.Busy()
	// --csv prints a header and one line per test: "SET","rps",...
	tests := 0
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, `"SET"`) || strings.HasPrefix(line, `"GET"`) {
			tests++
		}
	}
	if tests != 2 {
		return nil, fmt.Errorf("redis-benchmark: unexpected output %q", out)
	}
	n, _ := strconv.Atoi(argAfter(w.args, "-n"))
	reqs := float64(2 * n)
	scpu := cpu1 - cpu0
	wall := t1.Sub(t0).Seconds()
	return &report.Sample{Values: map[string]float64{
		"rate":    reqs / wall,
		"cpu":     float64(scpu.Nanoseconds()) / reqs,
		"sutil":   scpu.Seconds() / wall,
		"cutil":   cmd.ProcessState.UserTime().Seconds()/wall + cmd.ProcessState.SystemTime().Seconds()/wall,
		"foreign": foreign(busy0, busy1, scpu+cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime(), t1.Sub(t0)),
	}}, nil
}

func argAfter(args []string, flag string) string {
	for i := range len(args) - 1 {
		if args[i] == flag {
			return args[i+1]
		}
	}
	return ""
}

// timerResult is cmd/timers' output line.
type timerResult struct {
	N          int           `json:"n"`
	Fired      int64         `json:"fired"`
	Early      int           `json:"early"`
	CPU        time.Duration `json:"cpu_ns"`
	Wall       time.Duration `json:"wall_ns"`
	FireAllocs uint64        `json:"fire_allocs"`
}

func (h *harness) timersSample(w *workload, impl string) (*report.Sample, error) {
	busy0, _ := procstat.Busy()
	t0 := time.Now()
	p, err := h.start(impl, serverCPU, append([]string{filepath.Join(h.bin, "timers"), "-impl", impl}, w.args...)...)
	if err != nil {
		return nil, err
	}
	line, err := p.next(3 * time.Minute)
	if err != nil {
		p.stop()
		return nil, err
	}
	if err := p.wait(10 * time.Second); err != nil {
		return nil, err
	}
	busy1, _ := procstat.Busy()
	wall := time.Since(t0)
	var r timerResult
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		return nil, fmt.Errorf("timers: %q: %w", line, err)
	}
	if r.Early > 0 {
		return nil, fmt.Errorf("timers: %d timers fired before they could be cancelled; raise -lead", r.Early)
	}
	return &report.Sample{Values: map[string]float64{
		"rate":    float64(r.N) / r.CPU.Seconds(),
		"cpu":     float64(r.CPU.Nanoseconds()) / float64(r.N),
		"allocs":  float64(r.FireAllocs) / float64(r.Fired),
		"wall":    r.Wall.Seconds(),
		"foreign": foreign(busy0, busy1, p.cmd.ProcessState.UserTime()+p.cmd.ProcessState.SystemTime(), wall),
	}}, nil
}

func freePort() (string, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

func waitListening(addr string, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(end) {
			return fmt.Errorf("not listening on %s after %v: %w", addr, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func raiseNoFile() {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	}
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < 11000 {
		fmt.Fprintf(os.Stderr, "harness: RLIMIT_NOFILE is %d: the idle workload needs over 10000 descriptors per process\n", rl.Cur)
	}
}
