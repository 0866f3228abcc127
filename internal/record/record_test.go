package record_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/internal/record"
	"github.com/gotevent/gotevent/internal/testutil"
)

// feed copies what room b has for of p into it, as a read would, and
// returns how many bytes that was.
func feed(b *record.Buffer, limit int, p []byte) int {
	n := copy(b.Free(limit), p)
	b.Added(n)
	return n
}

// drain returns the records b holds, and "!" for each one too long.
func drain(b *record.Buffer, delim []byte, limit int) []string {
	var got []string
	for {
		rec, res := b.Next(delim, limit)
		switch res {
		case record.More:
			return got
		case record.TooLong:
			got = append(got, "!")
		default:
			got = append(got, string(rec))
		}
	}
}

func TestSplitAcrossReads(t *testing.T) {
	var b record.Buffer
	delim := []byte("\r\n")
	steps := []struct {
		in   string
		want []string
	}{
		{"abc\r", nil}, // the delimiter split between two reads
		{"\ndef\r\nghi\r\nj", []string{"abc\r\n", "def\r\n", "ghi\r\n"}},
		{"kl", nil},
		{"\r", nil},
		{"\n\r\n", []string{"jkl\r\n", "\r\n"}},
	}
	for i, s := range steps {
		if n := feed(&b, 100, []byte(s.in)); n != len(s.in) {
			t.Fatalf("step %d: room for %d bytes of %q", i, n, s.in)
		}
		if diff := cmp.Diff(s.want, drain(&b, delim, 100)); diff != "" {
			t.Errorf("step %d (%q): records mismatch (-want +got):\n%s", i, s.in, diff)
		}
	}
	if len(b.Buffered()) != 0 || b.EOF() != io.EOF {
		t.Fatalf("after the last record: Buffered %q, EOF %v; want nothing, io.EOF", b.Buffered(), b.EOF())
	}
}

// TestLinearByteByByte feeds a record of 1 MiB one byte at a time: every
// byte is searched at most len(delim) times and moved a bounded number of
// times, so the work is linear, not quadratic, in the record's length.
func TestLinearByteByByte(t *testing.T) {
	const n = 1 << 20
	delim := []byte("\r\n\r\n")
	var b record.Buffer
	in := append(bytes.Repeat([]byte{'\r', 'x'}, n/2), delim...) // near misses all the way
	for i := range in {
		if rec, res := b.Next(delim, 2*n); res != record.More {
			t.Fatalf("byte %d: %v before the delimiter", i, res)
		} else if rec != nil {
			t.Fatal("a record with More")
		}
		feed(&b, 2*n, in[i:i+1])
	}
	rec, res := b.Next(delim, 2*n)
	if res != record.Found || len(rec) != len(in) {
		t.Fatalf("Next = %d bytes, %v; want %d bytes, Found", len(rec), res, len(in))
	}
	scanned, copied := record.Work(&b)
	if scanned > len(delim)*len(in) || copied > 2*len(in) {
		t.Fatalf("searched %d bytes and moved %d for a record of %d: want at most %d and %d",
			scanned, copied, len(in), len(delim)*len(in), 2*len(in))
	}
	t.Logf("record of %d bytes: %d searched, %d moved", len(in), scanned, copied)
}

func TestTooLong(t *testing.T) {
	nl := []byte("\n")
	t.Run("whole record", func(t *testing.T) {
		var b record.Buffer
		feed(&b, 8, []byte("1234567\n12345678\nok\n"))
		if diff := cmp.Diff([]string{"1234567\n", "!", "ok\n"}, drain(&b, nl, 8)); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("refused at the limit, skipped to the delimiter", func(t *testing.T) {
		var b record.Buffer
		delim := []byte("\r\n")
		feed(&b, 8, []byte("12345678")) // 8 bytes and no delimiter: over 8 with it
		if diff := cmp.Diff([]string{"!"}, drain(&b, delim, 8)); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
		if len(b.Buffered()) != 1 {
			t.Fatalf("Buffered %q; want only the byte that may start the delimiter", b.Buffered())
		}
		if b.EOF() != io.ErrUnexpectedEOF {
			t.Fatalf("EOF while skipping: %v, want io.ErrUnexpectedEOF", b.EOF())
		}
		feed(&b, 8, []byte("9\r")) // the delimiter split across reads
		if got := drain(&b, delim, 8); got != nil {
			t.Fatalf("while skipping: %q", got)
		}
		feed(&b, 8, []byte("\nnext\r\n"))
		if diff := cmp.Diff([]string{"next\r\n"}, drain(&b, delim, 8)); diff != "" {
			t.Fatalf("after the skip: mismatch (-want +got):\n%s", diff)
		}
		if b.EOF() != io.EOF {
			t.Fatalf("EOF after the skip and the record: %v, want io.EOF", b.EOF())
		}
	})
	t.Run("memory bound", func(t *testing.T) {
		// An endless line: the buffer never grows past the limit, however
		// much arrives, and the line after it reads fine.
		const limit = 10000
		var b record.Buffer
		rng := rand.New(rand.NewPCG(1, 2))
		line := bytes.Repeat([]byte("x"), 1<<20)
		refused := 0
		for rest := line; len(rest) > 0; {
			refused += len(drain(&b, nl, limit))
			rest = rest[feed(&b, limit, rest[:min(len(rest), 1+rng.IntN(3000))]):]
		}
		feed(&b, limit, []byte("\nnext\n"))
		if diff := cmp.Diff([]string{"next\n"}, drain(&b, nl, limit)); refused != 1 || diff != "" {
			t.Fatalf("refused %d times (want 1); after the line: mismatch (-want +got):\n%s", refused, diff)
		}
		if b.Cap() > limit {
			t.Fatalf("buffer of %d bytes for a limit of %d", b.Cap(), limit)
		}
	})
	t.Run("small limit, big reads", func(t *testing.T) {
		var b record.Buffer
		in := strings.Repeat("ab\n", 1000)
		feed(&b, 3, []byte(in)) // one read holds many records
		if got := drain(&b, nl, 3); len(got) != 1000 {
			t.Fatalf("%d records from one read of 1000", len(got))
		}
	})
}

func TestDiscard(t *testing.T) {
	var b record.Buffer
	nl := []byte("\n")
	feed(&b, 100, []byte("LEN 5\nhelloNEXT\n"))
	if rec, res := b.Next(nl, 100); res != record.Found || string(rec) != "LEN 5\n" {
		t.Fatalf("header: %q, %v", rec, res)
	}
	if body := b.Buffered()[:5]; string(body) != "hello" {
		t.Fatalf("body = %q", body)
	}
	if n := b.Discard(5); n != 5 {
		t.Fatalf("Discard(5) = %d", n)
	}
	if rec, res := b.Next(nl, 100); res != record.Found || string(rec) != "NEXT\n" {
		t.Fatalf("after the body: %q, %v", rec, res)
	}
	if n := b.Discard(10); n != 0 {
		t.Fatalf("Discard on an empty buffer = %d", n)
	}
}

// errTooLong is the reference's error for a record over the limit.
var errTooLong = errors.New("record too long")

// FuzzBuffer checks the records of input fed in random chunks against
// testutil.RefReader, which reads it as one string, with the buffer
// released at random between reads.
func FuzzBuffer(f *testing.F) {
	// Seeds: a split CRLF, overlapping delimiter bytes, a record over the
	// limit ended, one never ended, a partial record at the end.
	f.Add([]byte("abc\r\ndef\r\n"), []byte("\r\n"), uint16(100), uint64(1))
	f.Add([]byte("xaaay aa aaa"), []byte("aa"), uint16(3), uint64(2))
	f.Add([]byte("short\nmuch too long for the limit\nok\n"), []byte("\n"), uint16(8), uint64(3))
	f.Add([]byte("ok;no end to this one"), []byte(";"), uint16(5), uint64(4))
	f.Add([]byte("one\ntw"), []byte("\n"), uint16(10), uint64(5))
	f.Fuzz(func(t *testing.T, data, delim []byte, limit uint16, seed uint64) {
		if len(delim) == 0 || len(delim) > 8 || limit == 0 {
			return
		}
		ref := testutil.RefReader{Data: data, Limit: int(limit), TooLong: errTooLong}
		var want []string
		for {
			rec, err := ref.ReadUntil(delim)
			if err == errTooLong {
				rec = "!"
			} else if err != nil {
				want = append(want, err.Error())
				break
			}
			want = append(want, rec)
		}
		var b record.Buffer
		var got []string
		rng := rand.New(rand.NewPCG(seed, 3))
		for rest := data; len(rest) > 0; {
			got = append(got, drain(&b, delim, int(limit))...)
			if rng.IntN(3) == 0 {
				b.Release() // as a reader about to wait does
			}
			n := feed(&b, int(limit), rest[:min(len(rest), 1+rng.IntN(1+rng.IntN(300)))])
			if n == 0 {
				t.Fatalf("no room to read into with %d bytes buffered", len(b.Buffered()))
			}
			rest = rest[n:]
		}
		got = append(append(got, drain(&b, delim, int(limit))...), b.EOF().Error())
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("records mismatch (-want +got):\n%s", diff)
		}
	})
}

// A Buffer that holds no input gives its memory back on Release and
// takes a buffer again on Free; one holding the start of a short record
// keeps it in a small buffer, one holding more keeps its buffer, whatever
// other Buffers take from the pool meanwhile.
func TestRelease(t *testing.T) {
	var idle, partial record.Buffer
	delim := []byte("\n")
	if idle.Release() || idle.Cap() != 0 {
		t.Fatalf("a new Buffer: Release %v, Cap %d; want false, 0", idle.Release(), idle.Cap())
	}
	feed(&idle, 100, []byte("one\n"))
	if rec, res := idle.Next(delim, 100); res != record.Found || string(rec) != "one\n" {
		t.Fatalf("Next = %q, %v", rec, res)
	}
	if !idle.Release() || idle.Cap() != 0 {
		t.Fatalf("an emptied Buffer: Cap %d after Release; want 0", idle.Cap())
	}
	feed(&partial, 100, []byte("par"))
	if !partial.Release() || partial.Cap() != 64 {
		t.Fatalf("a Buffer holding 3 bytes of a record: Cap %d after Release; want the smallest, 64", partial.Cap())
	}
	var long record.Buffer
	feed(&long, 4096, bytes.Repeat([]byte{'y'}, 600))
	if long.Release() || long.Cap() != 4096 {
		t.Fatalf("a Buffer holding 600 bytes of a record: Cap %d after Release; want its 4096", long.Cap())
	}
	// Other Buffers take and give back pooled memory while partial waits.
	for i := range 10 {
		var other record.Buffer
		feed(&other, 100, bytes.Repeat([]byte{'x'}, 4000))
		feed(&other, 100, []byte("\n"))
		if _, res := other.Next(delim, 4096); res != record.Found {
			t.Fatalf("other %d: %v", i, res)
		}
		other.Release()
		feed(&idle, 100, []byte("two\n"))
		if rec, _ := idle.Next(delim, 100); string(rec) != "two\n" {
			t.Fatalf("round %d: idle's record %q", i, rec)
		}
		idle.Release()
	}
	feed(&partial, 100, []byte("tial\n"))
	if rec, res := partial.Next(delim, 100); res != record.Found || string(rec) != "partial\n" {
		t.Fatalf("the partial record after the others' reads: %q, %v", rec, res)
	}
	feed(&long, 4096, []byte("\n"))
	if rec, res := long.Next(delim, 4096); res != record.Found || len(rec) != 601 {
		t.Fatalf("the long record after the others' reads: %d bytes, %v", len(rec), res)
	}
}

// A record trickling in a byte at a time, released before every read as
// a waiting reader does, costs at most two copies of its first 512 bytes
// a read beyond the linear work: the move Release makes into a small
// buffer and the one Free makes back. Past 512 bytes it keeps its buffer.
func TestReleaseByteByByte(t *testing.T) {
	const n, shrinkMax = 8 << 10, 512
	delim := []byte("\r\n")
	var b record.Buffer
	in := append(bytes.Repeat([]byte{'\r', 'x'}, n/2), delim...)
	for i := range in {
		if _, res := b.Next(delim, 2*n); res != record.More {
			t.Fatalf("byte %d: %v before the delimiter", i, res)
		}
		b.Release()
		switch {
		case i > 0 && i <= shrinkMax && (b.Cap() < i || b.Cap() >= max(128, 2*i)):
			t.Fatalf("after %d bytes: Cap %d after Release; want a small buffer for them", i, b.Cap())
		case i > shrinkMax && b.Cap() < 4096:
			t.Fatalf("after %d bytes: Cap %d after Release; want the buffer kept", i, b.Cap())
		}
		feed(&b, 2*n, in[i:i+1])
	}
	rec, res := b.Next(delim, 2*n)
	if res != record.Found || len(rec) != len(in) {
		t.Fatalf("Next = %d bytes, %v; want %d bytes, Found", len(rec), res, len(in))
	}
	_, copied := record.Work(&b)
	if limit := 2*len(in) + 2*shrinkMax*(shrinkMax+1); copied > limit {
		t.Fatalf("moved %d bytes for a record of %d; want at most %d", copied, len(in), limit)
	}
	t.Logf("record of %d bytes, released before every byte: %d moved", len(in), copied)
}
