package tests

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// heapAllocs is the cumulative heap allocation of the process. Large
// objects (over 32 KiB) are counted when allocated; small ones a span at a
// time, which is why bounds on it carry tens of KiB of slack.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// respAllocSlack covers the small allocations of an error message and the
// span-at-a-time accounting of heapAllocs.
const respAllocSlack = 64 << 10

// parseAllocs is what one resp.Parse call on data allocates: the least of
// three measurements, since the counter is process-wide and the fuzzing
// engine's own goroutines allocate now and then. Parse is a pure
// function, so every call allocates the same.
func parseAllocs(data []byte, args [][]byte) uint64 {
	least := uint64(1 << 63)
	for range 3 {
		before := heapAllocs()
		resp.Parse(data, args)
		least = min(least, heapAllocs()-before)
	}
	return least
}

// FuzzRESPParseCaps checks that resp.Parse honours its documented caps
// on any input, and allocates within them: it never returns more than
// MaxArgs arguments, a bulk argument over MaxBulkLen or an inline one over
// MaxInlineLen; it never uses more bytes than it was given; an inline
// command it is still waiting for never exceeds MaxInlineLen; errors wrap
// ErrProtocol; and given an argument slice with room for MaxArgs, one call
// allocates no more than an error message, whatever the input. (The
// package's own FuzzParse checks that chunking does not change the
// result; its inputs never come near the caps.)
func FuzzRESPParseCaps(f *testing.F) {
	f.Add([]byte("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n"))
	f.Add([]byte("SET a b\r\n"))
	f.Add([]byte("*1025\r\n"))
	f.Add([]byte("*1\r\n$1048577\r\n"))
	f.Add([]byte("*1\r\n$1048576\r\n"))
	f.Add([]byte(strings.Repeat("x ", 100) + "\n"))
	// An inline command of more than MaxArgs words: rejected, and, since
	// 40f8ed2, without first building a slice of every word in the line.
	f.Add([]byte(strings.Repeat("a ", 5000) + "\n"))
	f.Add([]byte(strings.Repeat("a", resp.MaxInlineLen) + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		args := make([][]byte, 0, resp.MaxArgs)
		got, n, err := resp.Parse(data, args)
		if allocated := parseAllocs(data, args); allocated > respAllocSlack {
			t.Fatalf("Parse allocated %d bytes for a %d-byte input (err %v)", allocated, len(data), err)
		}
		if err != nil {
			if !errors.Is(err, resp.ErrProtocol) {
				t.Fatalf("error %v does not wrap ErrProtocol", err)
			}
			return
		}
		if n < 0 || n > len(data) {
			t.Fatalf("used %d of %d bytes", n, len(data))
		}
		if len(got) > resp.MaxArgs {
			t.Fatalf("%d arguments, cap %d", len(got), resp.MaxArgs)
		}
		inline := len(data) > 0 && data[0] != '*'
		for _, a := range got {
			if len(a) > resp.MaxBulkLen || inline && len(a) > resp.MaxInlineLen {
				t.Fatalf("argument of %d bytes", len(a))
			}
		}
		if n == 0 && inline && len(data) > resp.MaxInlineLen {
			t.Fatalf("still waiting for an inline command after %d bytes", len(data))
		}
	})
}

// TestFaultRESPInlineWordsAllocation is the seed above as a plain test, so
// the regression shows in make test with a clear number: an inline command
// of 30 000 words (a 60 KB line, under MaxInlineLen) must be refused for
// its argument count without allocating a slice for every word (30 000 ×
// 24 bytes = 720 KB) on the way.
func TestFaultRESPInlineWordsAllocation(t *testing.T) {
	line := []byte(strings.Repeat("a ", 30000) + "\n")
	args := make([][]byte, 0, resp.MaxArgs)
	_, _, err := resp.Parse(line, args)
	allocated := parseAllocs(line, args)
	if !errors.Is(err, resp.ErrProtocol) {
		t.Fatalf("30 000 arguments: %v, want a protocol error", err)
	}
	if allocated > respAllocSlack {
		t.Fatalf("refusing a 30 000-word inline command allocated %d bytes; MaxArgs (%d) arguments need at most %d",
			allocated, resp.MaxArgs, resp.MaxArgs*24)
	}
}

// FuzzReadUntilLoop drives ReadUntil the way a server does: from a
// scheduled MaskEvent's callback, called by the loop whenever the socket is
// readable, draining every buffered record before asking for FDRead again,
// while the peer's writes arrive in chunks of fuzzed sizes on a real
// socketpair. The records must be exactly what bytes.SplitAfter gives (up
// to the first one over MaxRecord), and input ending mid-record must be
// io.ErrUnexpectedEOF. (tevent's FuzzReadUntil calls ReadUntil directly,
// with no loop; this one also covers level-triggered dispatch and the
// "records buffered in LineState are not in the socket" rule.)
func FuzzReadUntilLoop(f *testing.F) {
	f.Add([]byte("a1 NOOP\r\nb2 IDLE\r\nDONE\r\n"), []byte("\r\n"), uint16(0), uint64(1))
	f.Add([]byte("x\ny\nz\n"), []byte("\n"), uint16(2), uint64(2))
	f.Add([]byte("one\r\ntwo\r\nthr"), []byte("\r\n"), uint16(0), uint64(3))
	f.Add([]byte("HEAD\r\n\r\nbody\r\n\r\n"), []byte("\r\n\r\n"), uint16(9), uint64(4))
	f.Add(bytes.Repeat([]byte("abc;"), 3000), []byte(";"), uint16(0), uint64(5))
	f.Fuzz(func(t *testing.T, data, delim []byte, maxRecord uint16, seed uint64) {
		if len(delim) == 0 || len(delim) > 8 || len(data) > 64<<10 {
			return
		}
		limit := int(maxRecord)
		if limit == 0 {
			limit = tevent.DefaultMaxRecord
		}
		want, wantEnd := testutil.SplitRecords(data, delim, limit, tevent.ErrRecordTooLong)
		// No subtests and no per-input leak check here: the fuzzing engine
		// copes badly with either. Both backends in turn.
		for _, backend := range tevent.Backends() {
			got, end := readUntilLoop(t, backend, data, delim, int(maxRecord), seed)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: records mismatch (-want +got):\n%s", backend, diff)
			}
			if !errors.Is(end, wantEnd) {
				t.Fatalf("%s: ended with %v, want %v", backend, end, wantEnd)
			}
		}
	})
}

// readUntilLoop feeds data through a socketpair in random chunks from one
// mask event and reads it back with ReadUntil from another, both on one
// loop.
func readUntilLoop(t *testing.T, backend string, data, delim []byte, maxRecord int, seed uint64) ([]string, error) {
	ev, err := tevent.NewContext(tevent.WithBackend(backend))
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	w, r := fds[0], fds[1]
	defer unix.Close(r)
	rng := rand.New(rand.NewPCG(seed, 7))
	rest := data
	writer := ev.BuildFDEvent(w, tevent.FDWrite, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
		if len(rest) == 0 {
			e.Close() // the reader sees EOF
			return 0
		}
		n, need, err := e.Write(rest[:min(len(rest), 1+rng.IntN(1+rng.IntN(4096)))])
		if err == unix.EAGAIN {
			return need
		}
		if err != nil {
			// The reader stopped (a record over the limit) and closed.
			e.Close()
			return 0
		}
		rest = rest[n:]
		return tevent.FDWrite
	}, nil)
	st := tevent.LineState{MaxRecord: maxRecord}
	var got []string
	var end error
	reader := ev.BuildFDEvent(r, tevent.FDRead, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
		for {
			rec, need, err := e.ReadUntil(delim, &st)
			if err == unix.EAGAIN {
				return need
			}
			if err != nil {
				end = err
				return 0
			}
			got = append(got, string(rec))
		}
	}, nil)
	if err := ev.ScheduleEvent(writer); err != nil {
		t.Fatal(err)
	}
	if err := ev.ScheduleEvent(reader); err != nil {
		t.Fatal(err)
	}
	stuck := false
	ev.AddTimer(ev.Now().Add(ioTimeout), func(*tevent.Timer, time.Time) { stuck = true })
	if err := ev.LoopUntil(func() bool { return end != nil || stuck }); err != nil {
		t.Fatal(err)
	}
	if stuck {
		t.Fatalf("%s: ReadUntil in the loop made no progress for %v: %d records, %d bytes unsent", backend, ioTimeout, len(got), len(rest))
	}
	writer.Close() // if the reader stopped first; closing twice is nil
	return got, end
}
