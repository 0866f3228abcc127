package resp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
)

// Stats is the process's memory as the benchmark servers report it
// (tests/bench/cmd/server), with the same JSON names, so that the
// benchmark harness reads the demo's Go heap and stacks as it reads its
// peers'.
type Stats struct {
	HeapAlloc  uint64 `json:"heap_alloc"`  // live heap bytes, after two GCs
	StackInuse uint64 `json:"stack_inuse"` // goroutine stack bytes
	HeapInuse  uint64 `json:"heap_inuse"`
	Sys        uint64 `json:"sys"`
	Goroutines int    `json:"goroutines"`
	Mallocs    uint64 `json:"mallocs"`
}

// ReadStats runs two garbage collections (the second frees what the
// first one's finalizers released) and returns the figures after them.
func ReadStats() Stats {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return Stats{HeapAlloc: ms.HeapAlloc, StackInuse: ms.StackInuse, HeapInuse: ms.HeapInuse,
		Sys: ms.Sys, Goroutines: runtime.NumGoroutine(), Mallocs: ms.Mallocs}
}

// ServeStats answers commands read from in, one a line, on out until in
// ends or fails, as the benchmark servers do:
//
//	stats             ReadStats as one JSON line
//	heapprofile PATH  a heap profile (after a GC) written to PATH, then "OK"
//
// An unknown command or a failed profile is answered "ERR ...". It is for
// `tsocket-demo resp --stats`, run on a goroutine of its own; the server
// itself never calls it.
func ServeStats(in io.Reader, out io.Writer) error {
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		var err error
		switch cmd {
		case "":
			continue
		case "stats":
			var line []byte
			if line, err = json.Marshal(ReadStats()); err == nil {
				_, err = fmt.Fprintf(out, "%s\n", line)
			}
		case "heapprofile":
			if perr := WriteHeapProfile(arg); perr != nil {
				_, err = fmt.Fprintf(out, "ERR %v\n", perr)
			} else {
				_, err = fmt.Fprintln(out, "OK")
			}
		default:
			_, err = fmt.Fprintf(out, "ERR unknown command %q (stats, heapprofile PATH)\n", cmd)
		}
		if err != nil {
			return err
		}
	}
	return sc.Err()
}

// WriteHeapProfile runs a garbage collection and writes a heap profile to
// path.
func WriteHeapProfile(path string) error {
	if path == "" {
		return fmt.Errorf("heapprofile needs a file name")
	}
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// StartCPUProfile writes a CPU profile of the process to path until the
// returned stop is called (`tsocket-demo resp --cpuprofile`).
func StartCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
