// Command loadgen drives a benchmark server (package load) and reports on
// standard output, one line each: "START" when the measured window opens,
// "STOP <json>" when it closes (load.Result), and in idle mode
// "HOLD <json>" once every connection is open and answered, after which it
// keeps them open until a line (or EOF) arrives on standard input.
//
// With -tls-ca the connect and idle modes run over TLS, trusting that
// certificate: a connect message is then a full handshake, one request
// and its reply.
//
// -mode slow is the slow consumer (load.RunSlow): it prints "START" once
// the value is set and waits for a line on standard input before writing
// the GETs, so the server's memory can be read first; "STOP <json>"
// carries a load.SlowResult.
//
// -mode imap logs -conns connections in (LOGIN, SELECT INBOX, IDLE),
// prints "HOLD <json>" and waits for a line on standard input, then
// APPENDs one message from another connection; "STOP <json>" carries a
// load.IMAPResult with the new-mail latency of -watch idlers.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gotevent/gotevent/tests/bench/internal/load"
	"github.com/gotevent/gotevent/tests/bench/internal/tlscert"
	"golang.org/x/sys/unix"
)

func main() {
	var cfg load.Config
	mode := flag.String("mode", "pingpong", "pingpong, bulk, connect, idle, slow or imap")
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:7000", "server address (IPv4)")
	flag.IntVar(&cfg.Conns, "conns", 50, "connections (connect mode: connections in flight)")
	size := flag.Int("size", 64, "echo message size")
	depth := flag.Int("depth", 1, "messages per batch (pipelining depth)")
	proto := flag.String("proto", "echo", "echo, resp (SET/GET by turns) or ping (RESP PING)")
	flag.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up before the measured window")
	flag.DurationVar(&cfg.Duration, "duration", 3*time.Second, "measured window (imap: how long the idlers may take to see the new mail)")
	flag.IntVar(&cfg.DialConcurrency, "dial", 128, "connects in flight while opening connections")
	tlsCA := flag.String("tls-ca", "", "run connect or idle over TLS, trusting this PEM certificate")
	var slow load.SlowConfig
	flag.IntVar(&slow.Value, "value", 1<<20, "slow: bytes of the value set first")
	flag.IntVar(&slow.Gets, "gets", 3000, "slow: GETs written without reading")
	flag.DurationVar(&slow.PingEvery, "ping-every", time.Second, "slow: interval of the other connection's PINGs")
	var imap load.IMAPConfig
	flag.IntVar(&imap.Watch, "watch", 1000, "imap: idlers that time the new mail")
	flag.StringVar(&imap.User, "user", "demo", "imap: LOGIN user")
	flag.StringVar(&imap.Password, "password", "demo", "imap: LOGIN password")
	flag.Parse()
	raiseNoFile()
	out := bufio.NewWriter(os.Stdout)
	emit := func(tag string, v any) {
		out.WriteString(tag)
		if v != nil {
			b, _ := json.Marshal(v)
			out.WriteByte(' ')
			out.Write(b)
		}
		out.WriteByte('\n')
		out.Flush()
	}
	stdin := bufio.NewReader(os.Stdin)
	// stop ends the slow and imap modes, which report once at the end.
	stop := func(res any, err error) {
		if err != nil {
			fail(err)
		}
		emit("STOP", res)
	}
	if *mode == "slow" {
		slow.Addr, slow.Duration = cfg.Addr, cfg.Duration
		slow.Start = func() {
			emit("START", nil)
			stdin.ReadString('\n')
		}
		stop(load.RunSlow(slow))
		return
	}
	if *mode == "imap" {
		imap.Addr, imap.Conns, imap.DialConcurrency, imap.Wait = cfg.Addr, cfg.Conns, cfg.DialConcurrency, cfg.Duration
		imap.Hold = func(r load.IMAPResult) {
			emit("HOLD", r)
			stdin.ReadString('\n')
		}
		stop(load.RunIMAP(imap))
		return
	}
	cfg.Mode = load.Mode(*mode)
	switch *proto {
	case "echo":
		cfg.Req = bytes.Repeat([]byte("0123456789abcdef"), (*size**depth+15)/16)[:*size**depth]
		cfg.RespLen, cfg.Msgs = len(cfg.Req), *depth
	case "resp":
		cfg.Req, cfg.RespLen, cfg.Msgs = load.RESPBatch(*depth)
	case "ping":
		cfg.Req, cfg.RespLen, cfg.Msgs = []byte(load.PING), len(load.PINGResp), 1
	default:
		fail(fmt.Errorf("unknown -proto %q", *proto))
	}
	if *tlsCA != "" {
		var err error
		if cfg.TLS, err = tlscert.ClientConfig(*tlsCA); err != nil {
			fail(err)
		}
	}
	cfg.Start = func() { emit("START", nil) }
	cfg.Stop = func(r load.Result) { emit("STOP", r) }
	cfg.Hold = func(r load.Result) {
		emit("HOLD", r)
		stdin.ReadString('\n')
	}
	if _, err := load.Run(cfg); err != nil {
		fail(err)
	}
}

func raiseNoFile() {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
