package tests

import (
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// TestSoakSmallBuffersWritevQueue pushes 64 MiB (8 MiB in the short form)
// through a writev queue (tsocket.WritevQueueSend on a tqueue.Queue) over
// sockets whose SO_SNDBUF and SO_RCVBUF are 4 KiB, so that nearly every
// writev is partial and every read is short. Writes are chunks of random
// sizes, log-uniform from 1 byte to 64 KiB, each split into one to three
// buffers, several queued at once; the reader reads random sizes. The
// SHA-256 of what the reader got equals the writer's, and once the writer
// closes the reader sees io.EOF: nothing lost, duplicated, reordered or
// added.
func TestSoakSmallBuffersWritevQueue(t *testing.T) {
	size := 8 << 20
	if _, long := soakLength(t); long {
		size = 64 << 20
	}
	forEachBackend(t, func(t *testing.T, backend string) {
		for _, network := range []string{"tcp", "unix"} {
			t.Run(network, func(t *testing.T) {
				testutil.NoFDLeak(t)
				seed := uint64(len(backend)*10 + len(network))
				t.Logf("%d bytes, seed %d", size, seed)
				ev := ctxOn(t, backend)
				a, b := smallBufPair(t, ev, network, 4096)
				for _, s := range []*tsocket.Stream{a, b} {
					for _, opt := range []int{unix.SO_SNDBUF, unix.SO_RCVBUF} {
						// Linux doubles the value for its bookkeeping.
						if v, err := unix.GetsockoptInt(s.Fd(), unix.SOL_SOCKET, opt); err != nil || v > 8192 {
							t.Fatalf("buffer option %d = %d, %v; want at most 8 KiB", opt, v, err)
						}
					}
				}
				w := &queuedWriter{t: t, ev: ev, s: a, q: tqueue.New(ev, "writes"), left: size,
					rng: rand.New(rand.NewPCG(seed, 1)), src: rand.NewChaCha8([32]byte{byte(seed)})}
				r := &randomReader{t: t, ev: ev, s: b, left: size, rng: rand.New(rand.NewPCG(seed, 2))}
				w.fill()
				r.next()
				runUntil(t, ev, "the transfer", func() bool { return r.done || t.Failed() })
				if t.Failed() {
					return
				}
				if w.written != size || r.read != size {
					t.Fatalf("wrote %d, read %d, want %d", w.written, r.read, size)
				}
				if got, want := fmt.Sprintf("%x", r.sum.Sum(nil)), fmt.Sprintf("%x", w.sum.Sum(nil)); got != want {
					t.Fatalf("reader's SHA-256 %s, writer's %s", got, want)
				}
				t.Logf("%d writev requests, %d readv requests", w.reqs, r.reqs)
			})
		}
	})
}

// smallBufPair returns a connected pair of streams whose SO_SNDBUF and
// SO_RCVBUF are bufSize. For TCP the sizes are set before listen and connect:
// shrinking the receive buffer of an established connection leaves the
// sender remembering the larger window it was first offered, and Linux then
// holds back segments smaller than half of that (sender-side silly window
// avoidance), so the transfer crawls on zero-window probes. The descriptors
// are made here and handed to tsocket.ExistingSocket.
func smallBufPair(t testing.TB, ev *tevent.Context, network string, bufSize int) (*tsocket.Stream, *tsocket.Stream) {
	t.Helper()
	fds := newRawFDs(t)
	setBufs := func(fd int) {
		for _, opt := range []int{unix.SO_SNDBUF, unix.SO_RCVBUF} {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, bufSize); err != nil {
				t.Fatal(err)
			}
		}
	}
	var a, b int
	if network == "unix" {
		a, b = fds.socketpair(t)
		setBufs(a)
		setBufs(b)
	} else {
		mk := func() int {
			fd, err := sys.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
			if err != nil {
				t.Fatalf("socket: %v", err)
			}
			if err := unix.SetNonblock(fd, false); err != nil {
				t.Fatalf("set blocking: %v", err)
			}
			setBufs(fd)
			return fds.add(fd)
		}
		l := mk()
		if err := unix.Bind(l, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			t.Fatal(err)
		}
		if err := unix.Listen(l, 1); err != nil {
			t.Fatal(err)
		}
		sa, err := unix.Getsockname(l)
		if err != nil {
			t.Fatal(err)
		}
		a = mk()
		if err := unix.Connect(a, sa); err != nil {
			t.Fatalf("connect: %v", err)
		}
		if b, _, err = sys.Accept(l); err != nil { // queued already: does not wait
			t.Fatalf("accept: %v", err)
		}
		fds.add(b)
		fds.close(t, l)
	}
	wrap := func(fd int) *tsocket.Stream {
		s, err := tsocket.ExistingSocket(ev, fd)
		if err != nil {
			t.Fatal(err)
		}
		fds.forget(fd)
		t.Cleanup(func() { s.Close() })
		return s
	}
	return wrap(a), wrap(b)
}

// queuedWriter keeps up to depth writes queued on q.
type queuedWriter struct {
	t       testing.TB
	ev      *tevent.Context
	s       *tsocket.Stream
	q       *tqueue.Queue
	rng     *rand.Rand
	src     *rand.ChaCha8
	sum     hashState
	left    int // bytes not yet queued
	queued  int // requests in the queue
	written int
	reqs    int
}

type hashState = interface {
	io.Writer
	Sum([]byte) []byte
}

const writeDepth = 8

func (w *queuedWriter) fill() {
	if w.sum == nil {
		w.sum = sha256.New()
	}
	for w.queued < writeDepth && w.left > 0 {
		n := min(w.left, 1+w.rng.IntN(1<<w.rng.IntN(17)))
		chunk := make([]byte, n)
		w.src.Read(chunk)
		w.sum.Write(chunk)
		w.left -= n
		var iov [][]byte
		for parts := 1 + w.rng.IntN(3); parts > 1 && len(chunk) > 1; parts-- {
			cut := 1 + w.rng.IntN(len(chunk)-1)
			iov = append(iov, chunk[:cut])
			chunk = chunk[cut:]
		}
		iov = append(iov, chunk)
		want := n
		req := tsocket.WritevQueueSend(w.ev, w.s, w.q, iov)
		w.queued++
		w.reqs++
		req.SetCallback(func(req *tevent.Req[int]) {
			w.queued--
			got, err := tsocket.WritevQueueRecv(req) // lets the next entry go
			if err != nil || got != want {
				w.t.Errorf("queued writev: %d, %v; want %d", got, err, want)
				return
			}
			w.written += got
			if w.left > 0 {
				w.fill()
			} else if w.queued == 0 {
				// All written: close, so the reader can check for EOF.
				if err := w.s.Close(); err != nil {
					w.t.Errorf("writer Close: %v", err)
				}
			}
		})
	}
}

// randomReader reads left bytes in reads of random sizes, then expects
// io.EOF.
type randomReader struct {
	t    testing.TB
	ev   *tevent.Context
	s    *tsocket.Stream
	rng  *rand.Rand
	sum  hashState
	left int
	read int
	reqs int
	buf  []byte
	done bool
}

func (r *randomReader) next() {
	if r.sum == nil {
		r.sum = sha256.New()
		r.buf = make([]byte, 32<<10)
	}
	n := 1
	if r.left > 0 {
		n = min(r.left, 1+r.rng.IntN(len(r.buf)))
	}
	buf := r.buf[:n]
	r.reqs++
	tsocket.ReadvSend(r.ev, r.s, [][]byte{buf}).SetCallback(func(req *tevent.Req[int]) {
		got, err := tsocket.ReadvRecv(req)
		if r.left == 0 {
			if err != io.EOF {
				r.t.Errorf("after the last byte: %d, %v; want io.EOF", got, err)
			}
			r.done = true
			return
		}
		if err != nil {
			r.t.Errorf("readv with %d bytes left: %v", r.left, err)
			r.done = true
			return
		}
		r.sum.Write(buf)
		r.read += got
		r.left -= got
		r.next()
	})
}
