// Command server runs one benchmark server (package servers) until its
// standard input closes. It prints "READY addr" once listening and answers
// commands read from standard input, one per line:
//
//	stats             run a GC and print the runtime's memory figures as one JSON line
//	heapprofile PATH  write a heap profile (after a GC) to PATH and print "OK"
//	quit              stop the server and exit
//
// The harness runs it pinned to one CPU with GOMAXPROCS=1.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"github.com/gotevent/gotevent/tests/bench/internal/servers"
	"github.com/gotevent/gotevent/tests/bench/internal/tlscert"
	"golang.org/x/sys/unix"
)

func main() {
	name := flag.String("server", "gotevent", "server: "+strings.Join(servers.Names(), ", "))
	mode := flag.String("mode", "echo", "echo, sink or resp")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (give a port: some peers cannot report the one chosen)")
	buf := flag.Int("buf", servers.DefaultBuf, "read buffer size")
	loops := flag.Int("loops", 1, "event loops (gotevent: tevent.Group with SO_REUSEPORT listeners)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here until exit")
	var tlsFiles tlscert.Files
	flag.StringVar(&tlsFiles.Cert, "tls-cert", "", "PEM certificate (net-resp-tls)")
	flag.StringVar(&tlsFiles.Key, "tls-key", "", "PEM private key (net-resp-tls)")
	flag.Parse()
	if err := run(*name, *mode, *addr, *buf, *loops, *cpuprofile, tlsFiles); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

func run(name, modeName, addr string, buf, loops int, cpuprofile string, tlsFiles tlscert.Files) error {
	raiseNoFile()
	mode, err := servers.ParseMode(modeName)
	if err != nil {
		return err
	}
	cfg := servers.Config{Mode: mode, Buf: buf, Loops: loops}
	if tlsFiles.Cert != "" || tlsFiles.Key != "" {
		if cfg.TLS, err = tlscert.ServerConfig(tlsFiles.Cert, tlsFiles.Key); err != nil {
			return err
		}
	}
	if strings.HasSuffix(addr, ":0") {
		if addr, err = servers.FreePort(); err != nil {
			return err
		}
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg.Addr = addr
	srv, err := servers.Start(name, cfg)
	if err != nil {
		return err
	}
	fmt.Printf("READY %s\n", addr)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		switch cmd {
		case "heapprofile":
			if err := resp.WriteHeapProfile(arg); err != nil {
				fmt.Printf("ERR %v\n", err)
			} else {
				fmt.Println("OK")
			}
		case "stats":
			line, _ := json.Marshal(resp.ReadStats()) // the demo's resp --stats answers the same
			fmt.Printf("%s\n", line)
		case "quit":
			return srv.Close()
		}
	}
	return srv.Close()
}

// raiseNoFile lifts the descriptor limit to the hard limit (the runtime
// does this too since Go 1.19; done here so the intent is explicit).
func raiseNoFile() {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
	}
}
