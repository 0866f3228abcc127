package resp_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
)

// ServeStats answers as the benchmark servers do: stats as one JSON line
// with their field names, a heap profile written where asked, and an
// error line for anything else; it ends with its input.
func TestServeStats(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "heap.prof")
	in := strings.NewReader("stats\n\nheapprofile " + prof + "\nheapprofile\nbogus\n")
	var out strings.Builder
	if err := resp.ServeStats(in, &out); err != nil {
		t.Fatalf("ServeStats: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want 4:\n%s", len(lines), out.String())
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &raw); err != nil {
		t.Fatalf("stats line %q: %v", lines[0], err)
	}
	for _, k := range []string{"heap_alloc", "stack_inuse", "heap_inuse", "sys", "goroutines", "mallocs"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("stats line %q has no %q", lines[0], k)
		}
	}
	if raw["heap_alloc"].(float64) <= 0 || raw["stack_inuse"].(float64) <= 0 {
		t.Errorf("stats line %q: heap or stack is zero", lines[0])
	}
	if lines[1] != "OK" {
		t.Errorf("heapprofile answered %q, want OK", lines[1])
	}
	if fi, err := os.Stat(prof); err != nil || fi.Size() == 0 {
		t.Errorf("heap profile: %v, %v", fi, err)
	}
	if !strings.HasPrefix(lines[2], "ERR ") || !strings.HasPrefix(lines[3], "ERR unknown command") {
		t.Errorf("bad commands answered %q and %q, want ERR lines", lines[2], lines[3])
	}
}

// StartCPUProfile writes a profile that ends when stopped.
func TestStartCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.prof")
	stop, err := resp.StartCPUProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Errorf("cpu profile: %v, %v", fi, err)
	}
	if _, err := resp.StartCPUProfile(filepath.Join(t.TempDir(), "no", "such", "dir")); err == nil {
		t.Error("StartCPUProfile into a missing directory did not fail")
	}
}
