package demoserver_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/demoserver"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
)

// Lines split across reads survive the shared buffer being reused between
// them, and a connection with no partial line holds no buffer.
func TestReaderSharedBuffer(t *testing.T) {
	chunks := []string{"a1 NOOP\r\na2 CAP", "ABILITY\r\n", "a3 NO", "OP", "\r\na4 LOGOUT\r\n"}
	lines, heldIdle := demoserver.ReaderLines(chunks, 64, 8<<10, nextLine)
	want := []string{"a1 NOOP", "a2 CAPABILITY", "a3 NOOP", "a4 LOGOUT"}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if heldIdle {
		t.Error("the reader kept a buffer of its own with nothing pending")
	}
}

// nextLine returns the first CRLF line of buf, without its CRLF, and the
// bytes it takes; n is 0 while no line is complete.
func nextLine(buf []byte) (line []byte, n int, err error) {
	i := bytes.Index(buf, []byte("\r\n"))
	if i < 0 {
		return nil, 0, nil
	}
	return buf[:i], i + 2, nil
}

// The read buffer never grows past its cap, whatever the request sizes.
func TestReaderBufferCapped(t *testing.T) {
	for _, step := range []int{1, 100, 4096, 65536, resp.MaxBuffer} {
		if got := demoserver.ReaderGrowth(resp.MaxBuffer, step); got != resp.MaxBuffer {
			t.Errorf("filled in %d-byte steps, the buffer reached %d bytes; want exactly the %d cap", step, got, resp.MaxBuffer)
		}
	}
}

// Add appends copies to the input, up to the reader's cap and no further.
func TestReaderAdd(t *testing.T) {
	r := demoserver.NewReader(8, make([]byte, 4))
	src := []byte("abc")
	if err := r.Add(src); err != nil {
		t.Fatal(err)
	}
	src[0] = 'X' // the reader holds a copy
	if err := r.Add([]byte("defgh")); err != nil {
		t.Fatal(err)
	}
	if got := string(r.Buffered()); got != "abcdefgh" {
		t.Fatalf("Buffered = %q, want abcdefgh", got)
	}
	if err := r.Add([]byte("i")); !errors.Is(err, demoserver.ErrBufferFull) {
		t.Fatalf("past the cap: %v, want ErrBufferFull", err)
	}
	if got := string(r.Buffered()); got != "abcdefgh" {
		t.Fatalf("after the refused Add, Buffered = %q", got)
	}
}
