package tsocket_test

import (
	"io"
	"net"
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
	"github.com/gotevent/gotevent/tsocket"
)

// echoer echoes fixed-size messages on s with state allocated once.
type echoer struct {
	ev  *tevent.Context
	s   *tsocket.Stream
	buf []byte
	iov [][]byte
	rcb func(*tevent.Req[int])
	wcb func(*tevent.Req[int])
}

func newEchoer(ev *tevent.Context, s *tsocket.Stream, size int) *echoer {
	e := &echoer{ev: ev, s: s, buf: make([]byte, size)}
	e.iov = [][]byte{e.buf}
	e.rcb, e.wcb = e.readDone, e.writeDone
	return e
}

func (e *echoer) start() { tsocket.ReadvSend(e.ev, e.s, e.iov).SetCallback(e.rcb) }

func (e *echoer) readDone(req *tevent.Req[int]) {
	if _, err := tsocket.ReadvRecv(req); err != nil {
		return
	}
	tsocket.WritevSend(e.ev, e.s, e.iov).SetCallback(e.wcb)
}

func (e *echoer) writeDone(req *tevent.Req[int]) {
	if _, err := tsocket.WritevRecv(req); err != nil {
		return
	}
	e.start()
}

func benchPingPong(b *testing.B, ev *tevent.Context, cli, srv *tsocket.Stream) {
	newEchoer(ev, srv, 64).start()
	msg := make([]byte, 64)
	out, in := [][]byte{msg}, [][]byte{make([]byte, 64)}
	b.ReportAllocs()
	b.SetBytes(64)
	b.ResetTimer()
	for range b.N {
		w := tsocket.WritevSend(ev, cli, out)
		r := tsocket.ReadvSend(ev, cli, in)
		if err := r.Poll(); err != nil {
			b.Fatal(err)
		}
		if _, err := tsocket.ReadvRecv(r); err != nil {
			b.Fatal(err)
		}
		if _, err := tsocket.WritevRecv(w); err != nil {
			b.Fatal(err)
		}
	}
}

func newBenchCtx(b *testing.B) *tevent.Context {
	ev, err := tevent.NewContext()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ev.Close() })
	return ev
}

func BenchmarkPingPong64Socketpair(b *testing.B) {
	ev := newBenchCtx(b)
	cli, srv, err := tsocket.Socketpair(ev)
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	defer srv.Close()
	benchPingPong(b, ev, cli, srv)
}

func BenchmarkPingPong64TCP(b *testing.B) {
	ev := newBenchCtx(b)
	cli, srv := tcpPair(b, ev)
	benchPingPong(b, ev, cli, srv)
}

// Pipelined 64-byte messages through a writev queue, drained by a reader
// on the same loop.
func BenchmarkWritevQueue64(b *testing.B) {
	ev := newBenchCtx(b)
	cli, srv, err := tsocket.Socketpair(ev)
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	defer srv.Close()
	q := tqueue.New(ev, "bench")
	msg := [][]byte{make([]byte, 64)}
	sink := make([]byte, 64*64)
	const depth = 64
	recv := func(req *tevent.Req[int]) { tsocket.WritevQueueRecv(req) }
	b.ReportAllocs()
	b.SetBytes(64)
	b.ResetTimer()
	for i := 0; i < b.N; i += depth {
		n := min(depth, b.N-i)
		for range n {
			tsocket.WritevQueueSend(ev, cli, q, msg).SetCallback(recv)
		}
		r := tsocket.ReadvSend(ev, srv, [][]byte{sink[:64*n]})
		if err := r.Poll(); err != nil {
			b.Fatal(err)
		}
		if _, err := tsocket.ReadvRecv(r); err != nil {
			b.Fatal(err)
		}
	}
}

const bulkSize = 1 << 20

// BenchmarkBulk1MiB moves 1 MiB per op over TCP loopback, the writer on
// its own loop goroutine; compare with BenchmarkBulk1MiBNet.
func BenchmarkBulk1MiB(b *testing.B) {
	evR := newBenchCtx(b)
	evW := newBenchCtx(b)
	l, err := tsocket.Listen(evR, loopback4(b))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	creq := tsocket.ConnectSend(evW, nil, l.Addr())
	poll(b, creq)
	w, err := tsocket.ConnectRecv(creq)
	if err != nil {
		b.Fatal(err)
	}
	areq := tsocket.AcceptSend(evR, l)
	poll(b, areq)
	r, err := tsocket.AcceptRecv(areq)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	data := make([]byte, bulkSize)
	buf := make([]byte, 256<<10)
	iov := [][]byte{buf}
	b.ReportAllocs()
	b.SetBytes(bulkSize)
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		defer w.Close()
		out := [][]byte{data}
		for range b.N {
			req := tsocket.WritevSend(evW, w, out)
			if err := req.Poll(); err != nil {
				done <- err
				return
			}
			if _, err := tsocket.WritevRecv(req); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for left := b.N * bulkSize; left > 0; {
		iov[0] = buf[:min(len(buf), left)]
		req := tsocket.ReadvSend(evR, r, iov)
		if err := req.Poll(); err != nil {
			b.Fatal(err)
		}
		n, err := tsocket.ReadvRecv(req)
		if err != nil {
			b.Fatal(err)
		}
		left -= n
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBulk1MiBNet is the peer: net.TCPConn and io.Copy, the same shape.
func BenchmarkBulk1MiBNet(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	w, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	r, err := ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	data := make([]byte, bulkSize)
	buf := make([]byte, 256<<10)
	b.ReportAllocs()
	b.SetBytes(bulkSize)
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		defer w.Close()
		for range b.N {
			if _, err := w.Write(data); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	if _, err := io.CopyBuffer(io.Discard, io.LimitReader(onlyReader{r}, int64(b.N)*bulkSize), buf); err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// onlyReader hides WriterTo so io.CopyBuffer uses the buffer given.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
