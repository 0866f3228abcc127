// Command loadgen drives a benchmark server (package load) and reports on
// standard output, one line each: "START" when the measured window opens,
// "STOP <json>" when it closes (load.Result), and in idle mode
// "HOLD <json>" once every connection is open and answered, after which it
// keeps them open until a line (or EOF) arrives on standard input.
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
	"golang.org/x/sys/unix"
)

func main() {
	var cfg load.Config
	mode := flag.String("mode", "pingpong", "pingpong, bulk, connect or idle")
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:7000", "server address (IPv4)")
	flag.IntVar(&cfg.Conns, "conns", 50, "connections (connect mode: connections in flight)")
	size := flag.Int("size", 64, "echo message size")
	depth := flag.Int("depth", 1, "messages per batch (pipelining depth)")
	proto := flag.String("proto", "echo", "echo or resp (SET/GET by turns)")
	flag.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up before the measured window")
	flag.DurationVar(&cfg.Duration, "duration", 3*time.Second, "measured window")
	flag.IntVar(&cfg.DialConcurrency, "dial", 128, "connects in flight while opening connections")
	flag.Parse()
	cfg.Mode = load.Mode(*mode)
	switch *proto {
	case "echo":
		cfg.Req = bytes.Repeat([]byte("0123456789abcdef"), (*size**depth+15)/16)[:*size**depth]
		cfg.RespLen, cfg.Msgs = len(cfg.Req), *depth
	case "resp":
		cfg.Req, cfg.RespLen, cfg.Msgs = load.RESPBatch(*depth)
	default:
		fail(fmt.Errorf("unknown -proto %q", *proto))
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	}
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
	cfg.Start = func() { emit("START", nil) }
	cfg.Stop = func(r load.Result) { emit("STOP", r) }
	cfg.Hold = func(r load.Result) {
		emit("HOLD", r)
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	if _, err := load.Run(cfg); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}
