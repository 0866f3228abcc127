// Command tsocket-demo shows gotevent at work.
//
// With no arguments it runs a self-contained tour on loopback and exits 0:
// TCP and UDP echo, pipelined writes through a queue, length-prefixed
// messages split with ReadvPDU, an IMAP-style IDLE session driven by wait
// events, an idle timeout, a callback-mask connection suspended while a
// worker runs a job, a queue used as a lock, and TLS over a stream.
//
//	tsocket-demo                          # the tour
//	tsocket-demo imap --listen ADDR       # an IMAP4rev1 server, for curl, mbsync, Python's imaplib
//	tsocket-demo serve --listen ADDR      # the same
//	tsocket-demo resp --listen ADDR       # a RESP (Redis) subset, for redis-cli and redis-benchmark
//	    [--loops N]                       #   N loops, one key space
//	    [--tls-cert F --tls-key F]        #   TLS on the port (redis-cli --tls)
//	    [--output-soft B --output-hard B] #   client-output-buffer-limit (1mb, 32mb)
//	    [--output-soft-seconds S]         #   its soft seconds (60)
//	    [--max-bulk B]                    #   proto-max-bulk-len (512mb)
//	    [--stats] [--cpuprofile F]        #   for benchmarks: "stats" on stdin, a CPU profile
//
// ADDR is host:port (127.0.0.1:1143, [::1]:6379) or a tsocket address
// (ipv4:127.0.0.1:1143, unix:/tmp/demo.sock). SIGINT and SIGTERM shut the
// servers down cleanly: the RESP server stops accepting, lets every client
// take its last replies for up to --grace (5s), then exits.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/tour"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

const usage = `usage: tsocket-demo [command] [flags]

commands:
  (none)   run the tour on loopback and exit
  imap     run the IMAP4rev1 server (LOGIN, SELECT, FETCH, APPEND, IDLE, STARTTLS, ...)
  serve    another name for imap
  resp     run the RESP server (PING, ECHO, SET, GET, DEL, EXISTS, INCR, QUIT),
           on N loops sharing one key space, plain or TLS, with Redis's
           output-buffer and bulk-length limits

run 'tsocket-demo COMMAND --help' for a command's flags
`

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errTour):
		os.Exit(1) // the tour printed what failed
	default:
		fmt.Fprintln(os.Stderr, "tsocket-demo:", err)
		os.Exit(2)
	}
}

var errTour = errors.New("the tour failed")

func runTour(stdout io.Writer) error {
	if err := tour.Run(stdout); err != nil {
		return fmt.Errorf("%w: %v", errTour, err)
	}
	return nil
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return runTour(stdout)
	}
	switch args[0] {
	case "tour":
		return runTour(stdout)
	case "imap", "serve":
		return serveIMAP(args[0], args[1:], stderr)
	case "imap-hibernate":
		return runHibernator(args[1:], stderr)
	case "resp":
		return serveRESP(args[1:], stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// parseListen accepts host:port or a tsocket address string.
func parseListen(s string) (tsocket.Address, error) {
	if s == "" {
		return nil, errors.New("--listen is required")
	}
	if a, err := tsocket.ParseAddress(s); err == nil {
		return a, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: want host:port, ipv4:IP:PORT, ipv6:[IP]:PORT or unix:/path", s)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %q is not a numeric IP address", s, host)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: bad port %q", s, port)
	}
	return tsocket.InetAddress("ip", ip.String(), p)
}

func newFlags(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tsocket-demo %s --listen ADDR [flags]\n\n%s\n\nflags:\n", name, help)
		fs.PrintDefaults()
	}
	return fs
}

func serveIMAP(name string, args []string, stderr io.Writer) error {
	fs := newFlags(name, "Runs the IMAP4rev1 server (RFC 3501 with IDLE, LITERAL+, UIDPLUS). Try:\n"+
		"curl imap://127.0.0.1:PORT/INBOX -u demo:demo, or nc 127.0.0.1 PORT and\n"+
		"\"a1 LOGIN demo demo\", \"a2 SELECT INBOX\", \"a3 IDLE\", \"DONE\", \"a4 LOGOUT\".", stderr)
	listen := fs.String("listen", "", "address to listen on (host:port or ipv4:IP:PORT, ipv6:[IP]:PORT, unix:/path)")
	usersFile := fs.String("users", "", "file of name:password lines (default: the one user demo, password demo)")
	maildir := fs.String("maildir", "", "keep mail in a Maildir per user under this directory (default: in memory)")
	certFile := fs.String("tls-cert", "", "PEM certificate: enables STARTTLS (with --tls-key)")
	keyFile := fs.String("tls-key", "", "PEM private key of --tls-cert")
	hibernate := fs.Duration("hibernate-after", 0, "hand plain connections idling in IDLE this long to the hibernation process (0: never)")
	idle := fs.Duration("idle-timeout", imap.DefaultIdleTimeout, "log out clients that send nothing for this long (RFC 3501: at least 30m)")
	keep := fs.Duration("keepalive", imap.DefaultKeepAlive, "interval of \"* OK Still here\" during IDLE")
	bye := fs.Duration("bye-timeout", imap.DefaultByeTimeout, "reset a closing client that has not taken its last output after this long")
	soft := fs.Int("output-soft", imap.DefaultOutputSoft, "stop reading a client whose queued output passes this many bytes")
	hard := fs.Int("output-hard", imap.DefaultOutputHard, "disconnect a client whose queued output would pass this many bytes")
	grace := fs.Duration("grace", 10*time.Second, "on SIGINT or SIGTERM, time left to commands in progress")
	quiet := fs.Bool("quiet", false, "do not log connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	addr, err := parseListen(*listen)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "", log.LstdFlags)
	cfg := imap.Config{IdleTimeout: *idle, KeepAlive: *keep, ByeTimeout: *bye, HibernateAfter: *hibernate,
		Output: tsocket.WriterLimits{Soft: *soft, Hard: *hard}}
	if cfg.Session, err = sessionConfig(*usersFile, *maildir); err != nil {
		return err
	}
	if !*quiet {
		cfg.Logf = logger.Printf
	}
	switch {
	case *certFile != "" && *keyFile != "":
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case *certFile != "" || *keyFile != "":
		return fmt.Errorf("%s: --tls-cert and --tls-key go together", name)
	}
	if *hibernate > 0 {
		cfg.StartHibernator = imap.ExecHibernator(cfg, logger.Printf)
		// The memory of the connections handed over goes back to the
		// system, not only to the Go heap: that is what hibernating
		// them is for.
		cfg.ReturnMemory = debug.FreeOSMemory
	}
	ev, err := tevent.NewContext()
	if err != nil {
		return err
	}
	defer ev.Close()
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		return err
	}
	srv, err := imap.NewServer(ev, l, cfg)
	if err != nil {
		l.Close()
		return err
	}
	var sigs []*tevent.Signal
	var shutErr error
	stop := func(sig os.Signal, _ int) {
		logger.Printf("%v: shutting down", sig)
		for _, s := range sigs {
			s.Remove() // the loop returns once the last connection is closed
		}
		srv.Shutdown(*grace, func(err error) { shutErr = err })
	}
	for _, sig := range []os.Signal{syscall.SIGINT, syscall.SIGTERM} {
		s, err := ev.AddSignal(sig, stop)
		if err != nil {
			srv.Close()
			return err
		}
		sigs = append(sigs, s)
	}
	logger.Printf("serving IMAP on %v (%s loop)", srv.Addr(), ev.Backend())
	if err := ev.LoopWait(); err != nil {
		return err
	}
	if shutErr != nil {
		logger.Printf("shutdown: %v", shutErr)
	}
	return nil
}

// sessionConfig opens the users file and the mail store.
func sessionConfig(usersFile, maildir string) (session.Config, error) {
	users := mail.DefaultUsers()
	if usersFile != "" {
		var err error
		if users, err = mail.LoadUsers(usersFile); err != nil {
			return session.Config{}, err
		}
	}
	var backend mail.Backend = mail.NewMemory(time.Now)
	if maildir != "" {
		md, err := mail.NewMaildir(maildir, time.Now)
		if err != nil {
			return session.Config{}, err
		}
		backend = md
	}
	return session.Config{Store: mail.NewStore(backend), Users: users}, nil
}

func serveRESP(args []string, stderr io.Writer) error {
	fs := newFlags("resp", "Runs the RESP server. Try: redis-cli -p PORT ping, or\n"+
		"redis-benchmark -p PORT -t ping,set,get -q. With --loops N, N loops share the\n"+
		"port through SO_REUSEPORT and serve one key space: each key belongs to one\n"+
		"loop, and a command on it from another loop's client is carried there.\n"+
		"With --tls-cert and --tls-key the port speaks TLS (redis-cli --tls).\n"+
		"BYTES may end in kb, mb or gb (1024-based) or k, m or g (1000-based), as in redis.conf.", stderr)
	def := resp.DefaultConfig()
	listen := fs.String("listen", "", "address to listen on (host:port or ipv4:IP:PORT, ipv6:[IP]:PORT, unix:/path)")
	loops := fs.Int("loops", 1, "number of event loops, one OS thread each, sharing one key space")
	backend := fs.String("backend", "", "event backend: epoll (default on Linux) or poll")
	quiet := fs.Bool("quiet", false, "do not log protocol errors and disconnections")
	cert := fs.String("tls-cert", "", "PEM certificate `file`: the port speaks TLS (needs --tls-key)")
	key := fs.String("tls-key", "", "PEM private key `file` of --tls-cert")
	soft := byteFlag(fs, "output-soft", int64(def.OutputSoft), "stop running a client's commands while this many `BYTES` of its replies wait (0: no limit)")
	hard := byteFlag(fs, "output-hard", int64(def.OutputHard), "disconnect a client whose waiting replies would pass this many `BYTES` (0: no limit)")
	softSecs := fs.Int("output-soft-seconds", int(def.OutputSoftTime/time.Second), "disconnect a client whose waiting replies stay over --output-soft for this many `SECONDS` (0: never)")
	maxBulk := byteFlag(fs, "max-bulk", def.MaxBulk, "longest bulk string accepted, in `BYTES` (Redis's proto-max-bulk-len)")
	grace := fs.Duration("grace", 5*time.Second, "on SIGINT or SIGTERM, how long clients get to take their last replies")
	stats := fs.Bool("stats", false, "answer \"stats\" and \"heapprofile PATH\" on standard input, as the benchmark servers do")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to `file` until the server exits")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("resp: unexpected argument %q", fs.Arg(0))
	}
	if *cpuprofile != "" {
		stop, err := resp.StartCPUProfile(*cpuprofile)
		if err != nil {
			return fmt.Errorf("resp: %w", err)
		}
		defer stop()
	}
	if *stats {
		go resp.ServeStats(os.Stdin, os.Stdout)
	}
	if *loops < 1 {
		return fmt.Errorf("resp: --loops must be at least 1, not %d", *loops)
	}
	if *soft > math.MaxInt || *hard > math.MaxInt {
		return fmt.Errorf("resp: --output-soft and --output-hard must be at most %d", math.MaxInt)
	}
	if *softSecs < 0 || *softSecs > math.MaxInt32 {
		return fmt.Errorf("resp: --output-soft-seconds must be between 0 and %d, not %d", math.MaxInt32, *softSecs)
	}
	cfg := def
	cfg.OutputSoft, cfg.OutputHard, cfg.MaxBulk = int(*soft), int(*hard), *maxBulk
	cfg.OutputSoftTime = time.Duration(*softSecs) * time.Second
	if cfg.MaxBulk < 1 || cfg.MaxBulk > math.MaxInt32 {
		// A bulk string is one allocation; past 2 GiB that is not a
		// demo's business (Redis allows 512 MiB by default).
		return fmt.Errorf("resp: --max-bulk must be between 1 and %d, not %d", math.MaxInt32, cfg.MaxBulk)
	}
	if (*cert == "") != (*key == "") {
		return errors.New("resp: --tls-cert and --tls-key go together")
	}
	if *cert != "" {
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			return fmt.Errorf("resp: %w", err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	addr, err := parseListen(*listen)
	if err != nil {
		return err
	}
	var opts []tevent.Option
	if *backend != "" {
		opts = append(opts, tevent.WithBackend(*backend))
	}
	g, err := tevent.NewGroup(*loops, opts...)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "", log.LstdFlags)
	var logf func(string, ...any)
	if !*quiet {
		logf = logger.Printf
	}
	ls, err := resp.StartLoops(g, addr, cfg, logf)
	if err != nil {
		return err
	}
	proto := ""
	if cfg.TLS != nil {
		proto = " over TLS"
	}
	logger.Printf("serving RESP%s on %v with %d %s loop(s)", proto, ls.Addr, *loops, g.Contexts()[0].Backend())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	sig := <-sigs
	logger.Printf("%v: shutting down (%v grace)", sig, *grace)
	shut, err := ls.Shutdown(*grace)
	if shut != nil {
		// Clients that did not leave in time were closed: worth a line,
		// not a failure of the server.
		logger.Printf("shutdown: %v", shut)
	}
	return err
}

// byteFlag defines a flag of a size in bytes, as redis.conf writes them.
func byteFlag(fs *flag.FlagSet, name string, value int64, usage string) *int64 {
	p := &value
	fs.Func(name, usage+fmt.Sprintf(" (default %d)", value), func(s string) error {
		n, err := parseBytes(s)
		if err != nil {
			return err
		}
		*p = n
		return nil
	})
	return p
}

// parseBytes parses a size: a number of bytes, or one ending in k, m or g
// (powers of 1000) or kb, mb or gb (powers of 1024), in any case.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1e3}, {"m", 1e6}, {"g", 1e9}, {"", 1}}
	t := strings.ToLower(strings.TrimSpace(s))
	for _, u := range units {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64/u.mult {
			return 0, fmt.Errorf("%q is not a size in bytes", s)
		}
		return n * u.mult, nil
	}
	return 0, fmt.Errorf("%q is not a size in bytes", s)
}
