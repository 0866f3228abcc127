package main

import (
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
)

// Servers the harness runs from binaries other than cmd/server: the
// demo's, with the flags each needs, and redis-server. The TLS ones use
// the certificate written at start (h.cert).
const (
	demoRESP       = "gotevent-resp"           // tsocket-demo resp
	demoRESPTLS    = "gotevent-resp-tls"       // tsocket-demo resp --tls-cert --tls-key
	demoRESPLimits = "gotevent-resp-limits"    // tsocket-demo resp --output-soft --output-hard
	demoIMAP       = "gotevent-imap"           // tsocket-demo imap
	demoIMAPHib    = "gotevent-imap-hibernate" // tsocket-demo imap --hibernate-after 1s
	redisServer    = "redis-server"
	redisServerTLS = "redis-server-tls" // --tls-port, no plain port
	netRESPTLS     = "net-resp-tls"     // cmd/server, needs -tls-cert and -tls-key
)

// The limits gotevent-resp-limits runs with: Redis's own defaults for its
// pubsub clients (client-output-buffer-limit pubsub 32mb 8mb), since a
// normal client has none by default.
const (
	outputSoft = 8 << 20
	outputHard = 32 << 20
)

// demoBuild is what the demo binary just built offers beyond
// `resp --listen`, read from its own --help: the flags are being added
// while this suite runs, and a row whose flag is missing is marked, not
// failed.
type demoBuild struct {
	tls    bool // resp --tls-cert F --tls-key F
	limits bool // resp --output-soft BYTES --output-hard BYTES
	imap   bool // imap --listen ADDR
	hib    bool // imap --hibernate-after D
	// resp --stats (answers "stats" on standard input, as cmd/server
	// does) and resp --cpuprofile F: the demo's RESP rows then report its
	// Go heap and stacks, and BENCH_PROFILE profiles it.
	stats, cpuprofile bool
}

// hibernateAfter is gotevent-imap-hibernate's --hibernate-after.
const hibernateAfter = "1s"

// probeDemo reads `tsocket-demo resp --help` and `tsocket-demo imap
// --help`. The flag package prints each flag as "-name", so "-tls-cert"
// matches however the usage spells it.
func probeDemo(demo string) demoBuild {
	help := func(cmd string) (string, bool) {
		out, err := exec.Command(demo, cmd, "--help").CombinedOutput()
		return string(out), err == nil
	}
	var b demoBuild
	if out, ok := help("resp"); ok {
		has := func(flags ...string) bool {
			for _, f := range flags {
				if !strings.Contains(out, "-"+f+" ") && !strings.Contains(out, "-"+f+"\n") && !strings.Contains(out, "-"+f+"=") {
					return false
				}
			}
			return true
		}
		b.tls = has("tls-cert", "tls-key")
		b.limits = has("output-soft", "output-hard")
		b.stats = has("stats")
		b.cpuprofile = has("cpuprofile")
	}
	if out, ok := help("imap"); ok {
		b.imap = strings.Contains(out, "-listen")
		b.hib = strings.Contains(out, "-hibernate-after")
	}
	return b
}

// describe is the header's line on the demo.
func (b demoBuild) describe() string {
	var has, lacks []string
	for _, f := range []struct {
		ok   bool
		what string
	}{{b.tls, "`resp --tls-cert`"}, {b.limits, "`resp --output-soft/--output-hard`"}, {b.imap, "`imap`"}, {b.hib, "`imap --hibernate-after`"}} {
		if f.ok {
			has = append(has, f.what)
		} else {
			lacks = append(lacks, f.what)
		}
	}
	s := "`tsocket-demo resp --listen ADDR` built from cmd/tsocket-demo"
	if len(has) > 0 {
		s += "; this build has " + strings.Join(has, ", ")
	}
	if len(lacks) > 0 {
		s += "; this build lacks " + strings.Join(lacks, ", ") + " (those rows are marked not run)"
	}
	return s
}

// unavailable says why srv cannot run on this machine with this build,
// or "" when it can.
func (h *harness) unavailable(srv string) string {
	switch srv {
	case demoRESPTLS:
		if !h.demo.tls {
			return "not supported by this build (`tsocket-demo resp --help` lists no --tls-cert/--tls-key)."
		}
	case demoRESPLimits:
		if !h.demo.limits {
			return "not supported by this build (`tsocket-demo resp --help` lists no --output-soft/--output-hard)."
		}
	case demoIMAP:
		if !h.demo.imap {
			return "not supported by this build (no `tsocket-demo imap` command)."
		}
	case demoIMAPHib:
		if !h.demo.hib {
			return "not supported by this build (`tsocket-demo imap --help` lists no --hibernate-after)."
		}
	case redisServer, redisServerTLS:
		if h.redisServer == "" {
			return "redis-server is not installed (apt-get install redis-server)."
		}
	}
	return ""
}

// external reports whether srv is run from a binary of its own rather
// than cmd/server: such a server prints no READY line, answers no
// "stats", and is stopped with SIGTERM.
func external(srv string) bool {
	return strings.HasPrefix(srv, "gotevent-resp") || strings.HasPrefix(srv, demoIMAP) || strings.HasPrefix(srv, "redis-server")
}

// answersStats reports whether srv, run as serverArgv runs it, answers
// "stats" on standard input: cmd/server always, the demo's RESP server
// when it has --stats.
func (h *harness) answersStats(srv string) bool {
	return !external(srv) || strings.HasPrefix(srv, "gotevent-resp") && h.demo.stats
}

// profilePath is where srv's CPU profile of a run goes.
func (h *harness) profilePath(w *workload, srv string, round int) string {
	return filepath.Join(h.results, "prof", fmt.Sprintf("%s-%s-r%d.prof", w.ID, srv, round+1))
}

// serverArgv is the command line of srv listening on addr.
func (h *harness) serverArgv(w *workload, srv, addr string, round int) []string {
	demo := filepath.Join(h.bin, "tsocket-demo")
	demoResp := func(args ...string) []string {
		argv := append([]string{demo, "resp", "--listen", addr}, args...)
		if h.demo.stats {
			argv = append(argv, "--stats")
		}
		if h.profile && h.demo.cpuprofile {
			argv = append(argv, "--cpuprofile", h.profilePath(w, srv, round))
		}
		return argv
	}
	switch srv {
	case demoRESP:
		return demoResp()
	case demoRESPTLS:
		return demoResp("--tls-cert", h.cert.Cert, "--tls-key", h.cert.Key)
	case demoRESPLimits:
		return demoResp("--output-soft", fmt.Sprint(outputSoft), "--output-hard", fmt.Sprint(outputHard))
	case demoIMAP:
		return []string{demo, "imap", "--listen", addr}
	case demoIMAPHib:
		return []string{demo, "imap", "--listen", addr, "--hibernate-after", hibernateAfter}
	case redisServer, redisServerTLS:
		host, port, _ := net.SplitHostPort(addr)
		argv := []string{h.redisServer, "--bind", host, "--save", "", "--appendonly", "no",
			"--dir", h.results, "--logfile", filepath.Join(h.results, "redis-server.log")}
		if srv == redisServer {
			return append(argv, "--port", port)
		}
		return append(argv, "--port", "0", "--tls-port", port, "--tls-cert-file", h.cert.Cert, "--tls-key-file", h.cert.Key,
			"--tls-ca-cert-file", h.cert.Cert, "--tls-auth-clients", "no")
	}
	argv := []string{filepath.Join(h.bin, "server"), "-server", srv, "-mode", w.mode, "-addr", addr}
	if srv == netRESPTLS {
		argv = append(argv, "-tls-cert", h.cert.Cert, "-tls-key", h.cert.Key)
	}
	if h.profile {
		argv = append(argv, "-cpuprofile", h.profilePath(w, srv, round))
	}
	return argv
}
