package tsocket_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// tlsPair returns a TLS client and server stream over a TCP pair, both on
// ev, handshaken.
func tlsPair(t *testing.T, ev *tevent.Context) (cli, srv *tsocket.Stream) {
	t.Helper()
	a, b := tcpPair(t, ev)
	cfg := testutil.TLS(t)
	creq := tsocket.TLSClientSend(ev, a, cfg.Client)
	sreq := tsocket.TLSServerSend(ev, b, cfg.Server)
	poll(t, creq)
	poll(t, sreq)
	cli, err := tsocket.TLSClientRecv(creq)
	if err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	srv, err = tsocket.TLSServerRecv(sreq)
	if err != nil {
		t.Fatalf("server handshake: %v", err)
	}
	t.Cleanup(func() { cli.Close(); srv.Close() })
	return cli, srv
}

// Both ends on the loop: every kind of read and write, small and large,
// goes through TLS unchanged.
func TestTLSStreamRequests(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cli, srv := tlsPair(t, ev)
		if st, ok := srv.TLSConnectionState(); !ok || !st.HandshakeComplete || st.Version != tls.VersionTLS13 {
			t.Fatalf("TLSConnectionState = %+v, %v", st, ok)
		}
		pa, _ := unixPair(t, ev)
		if _, ok := pa.TLSConnectionState(); ok {
			t.Fatal("a plain stream reports a TLS state")
		}

		// Small writev of several buffers, read with ReadvSend exactly.
		writeAll(t, ev, cli, []byte("he"), []byte("llo"), []byte(" world"))
		got := make([]byte, 11)
		rd := tsocket.ReadvSend(ev, srv, [][]byte{got[:4], got[4:]})
		poll(t, rd)
		if n, err := tsocket.ReadvRecv(rd); n != 11 || err != nil || string(got) != "hello world" {
			t.Fatalf("readv: %d %v %q", n, err, got)
		}

		// 4 MiB each way at once: the write needs the peer to read, the
		// reads need records decrypted ahead of the socket.
		big := pattern(4 << 20)
		back := make([]byte, len(big))
		w1 := tsocket.WritevSend(ev, cli, [][]byte{big})
		w2 := tsocket.WritevSend(ev, srv, [][]byte{big})
		r1 := tsocket.ReadvSend(ev, srv, [][]byte{back})
		fromSrv := make([]byte, len(big))
		r2 := tsocket.ReadvSend(ev, cli, [][]byte{fromSrv})
		for _, r := range []*tevent.Req[int]{w1, w2, r1, r2} {
			poll(t, r)
			if _, err := r.Recv(); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(back, big) || !bytes.Equal(fromSrv, big) {
			t.Fatal("4 MiB came through TLS changed")
		}

		// ReadSomeSend with a small buffer: records larger than the buffer
		// are handed out piece by piece, never waiting on a socket that
		// has nothing more (the rest is inside crypto/tls).
		writeAll(t, ev, cli, bytes.Repeat([]byte("x"), 40000))
		n := 0
		buf := make([]byte, 1000)
		for n < 40000 {
			r := tsocket.ReadSomeSend(ev, srv, buf)
			poll(t, r)
			k, err := tsocket.ReadSomeRecv(r)
			if err != nil {
				t.Fatalf("ReadSome after %d: %v", n, err)
			}
			n += k
		}

		// ReadSomeFuncSend, started when the socket is empty but crypto/tls
		// is not.
		writeAll(t, ev, cli, bytes.Repeat([]byte("y"), 3000))
		first := tsocket.ReadSomeSend(ev, srv, make([]byte, 100))
		poll(t, first)
		if k, err := tsocket.ReadSomeRecv(first); k != 100 || err != nil {
			t.Fatalf("first ReadSome: %d, %v", k, err)
		}
		shared := make([]byte, 64<<10)
		fr := tsocket.ReadSomeFuncSend(ev, srv, func() []byte { return shared })
		poll(t, fr)
		if b, err := tsocket.ReadSomeFuncRecv(fr); len(b) != 2900 || err != nil {
			t.Fatalf("ReadSomeFunc: %d bytes, %v; want the 2900 left", len(b), err)
		}

		// A Reader and a Writer on TLS streams.
		out := tsocket.NewWriter(ev, cli, tsocket.WriterLimits{})
		for range 50 {
			if err := out.Write([]byte("line\r\n")); err != nil {
				t.Fatal(err)
			}
		}
		in := tsocket.NewReader(ev, srv, 64)
		for i := range 50 {
			r := tsocket.ReadUntilSend(ev, in, []byte("\r\n"))
			poll(t, r)
			if rec, err := tsocket.ReadUntilRecv(r); err != nil || string(rec) != "line\r\n" {
				t.Fatalf("record %d: %q, %v", i, rec, err)
			}
		}

		// Disconnect sends close_notify: the peer reads a clean EOF.
		d := tsocket.DisconnectSend(ev, cli)
		poll(t, d)
		if err := tsocket.DisconnectRecv(d); err != nil {
			t.Fatal(err)
		}
		eof := tsocket.ReadSomeSend(ev, srv, buf)
		poll(t, eof)
		if _, err := tsocket.ReadSomeRecv(eof); err != io.EOF {
			t.Fatalf("read after the peer's close_notify: %v, want io.EOF", err)
		}
	})
}

// stdPeer runs fn on the one connection a listener of the standard
// library accepts, on a goroutine, and reports its result once the
// listener and the connection are closed, so that a test's descriptor
// count is back where it was by then.
func stdPeer(t *testing.T, fn func(c net.Conn) error) (net.Addr, <-chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		l.Close()
		if err == nil {
			err = fn(c)
			c.Close() // before the result: the test's fd check follows it
		}
		errc <- err
	}()
	return l.Addr(), errc
}

// The standard crypto/tls client and server talk to TLS streams.
func TestTLSInteropWithCryptoTLS(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		cfg := testutil.TLS(t)
		t.Run("stream server, crypto/tls client", func(t *testing.T) {
			ev := newCtx()
			l, err := tsocket.Listen(ev, loopback4(t))
			if err != nil {
				t.Fatal(err)
			}
			defer closeT(t, l)
			done := make(chan error, 1)
			go func() {
				c, err := tls.Dial("tcp", l.Addr().(*tsocket.InetAddr).AddrPort().String(), cfg.Client)
				if err != nil {
					done <- err
					return
				}
				defer c.Close()
				if _, err := c.Write([]byte("ping\n")); err != nil {
					done <- err
					return
				}
				line, err := bufio.NewReader(c).ReadString('\n')
				if err == nil && line != "PONG\n" {
					err = errors.New("reply " + line)
				}
				done <- err
			}()
			s := acceptTLS(t, ev, l, cfg.Server)
			defer s.Close()
			r := tsocket.NewReader(ev, s, 100)
			lr := tsocket.ReadUntilSend(ev, r, []byte("\n"))
			poll(t, lr)
			if line, err := tsocket.ReadUntilRecv(lr); err != nil || string(line) != "ping\n" {
				t.Fatalf("line: %q %v", line, err)
			}
			writeAll(t, ev, s, []byte("PONG\n"))
			if err := <-done; err != nil {
				t.Fatalf("crypto/tls client: %v", err)
			}
		})
		t.Run("stream client, crypto/tls server", func(t *testing.T) {
			ev := newCtx()
			addr, done := stdPeer(t, func(c net.Conn) error {
				tc := tls.Server(c, cfg.Server)
				line, err := bufio.NewReader(tc).ReadString('\n')
				if err != nil {
					return err
				}
				_, err = tc.Write([]byte("echo " + line))
				if err == nil {
					err = tc.CloseWrite() // close_notify
				}
				return err
			})
			s := dialTLS(t, ev, addr, cfg.Client)
			defer s.Close()
			writeAll(t, ev, s, []byte("hi\n"))
			var all []byte
			buf := make([]byte, 4)
			for {
				r := tsocket.ReadSomeSend(ev, s, buf)
				poll(t, r)
				n, err := tsocket.ReadSomeRecv(r)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, buf[:n]...)
			}
			if string(all) != "echo hi\n" {
				t.Fatalf("got %q", all)
			}
			if err := <-done; err != nil {
				t.Fatalf("crypto/tls server: %v", err)
			}
		})
	})
}

// STARTTLS: a stream that has talked in the clear turns to TLS.
func TestTLSStartTLS(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		a, b := tcpPair(t, ev)
		writeAll(t, ev, a, []byte("a001 STARTTLS\r\n"))
		r := tsocket.NewReader(ev, b, 100)
		lr := tsocket.ReadUntilSend(ev, r, []byte("\r\n"))
		poll(t, lr)
		if line, err := tsocket.ReadUntilRecv(lr); err != nil || string(line) != "a001 STARTTLS\r\n" {
			t.Fatal(line, err)
		}
		writeAll(t, ev, b, []byte("a001 OK begin TLS\r\n"))
		ok := make([]byte, 19)
		rr := tsocket.ReadvSend(ev, a, [][]byte{ok})
		poll(t, rr)
		cfg := testutil.TLS(t)
		creq := tsocket.TLSClientSend(ev, a, cfg.Client)
		sreq := tsocket.TLSServerSend(ev, b, cfg.Server)
		poll(t, creq)
		poll(t, sreq)
		cli, err1 := tsocket.TLSClientRecv(creq)
		srv, err2 := tsocket.TLSServerRecv(sreq)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		defer cli.Close()
		defer srv.Close()
		// The plain streams are spent: closing them does nothing.
		if err := a.Close(); err != nil {
			t.Fatalf("Close of the plain stream after STARTTLS: %v", err)
		}
		writeAll(t, ev, cli, []byte("a002 NOOP\r\n"))
		got := make([]byte, 11)
		if _, err := result(t, tsocket.ReadvSend(ev, srv, [][]byte{got})); err != nil || string(got) != "a002 NOOP\r\n" {
			t.Fatalf("%q %v", got, err)
		}
	})
}

// A failed handshake is an *OpError with Op "tls" around crypto/tls's
// error, which errors.As finds.
func TestTLSHandshakeErrors(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		cfg := testutil.TLS(t)
		t.Run("untrusted certificate", func(t *testing.T) {
			ev := newCtx()
			a, b := tcpPair(t, ev)
			untrusting := cfg.Client.Clone()
			untrusting.RootCAs = x509.NewCertPool()
			creq := tsocket.TLSClientSend(ev, a, untrusting)
			sreq := tsocket.TLSServerSend(ev, b, cfg.Server)
			poll(t, creq)
			poll(t, sreq)
			_, err := tsocket.TLSClientRecv(creq)
			var op *tsocket.OpError
			var cv *tls.CertificateVerificationError
			if !errors.As(err, &op) || op.Op != "tls" || !errors.As(err, &cv) {
				t.Fatalf("client: %v, want an OpError tls around a CertificateVerificationError", err)
			}
			_, err = tsocket.TLSServerRecv(sreq)
			var alert tls.AlertError
			if !errors.As(err, &op) || op.Op != "tls" || err == nil {
				t.Fatalf("server: %v, want an OpError tls", err)
			}
			_ = errors.As(err, &alert) // the alert's kind depends on the version
		})
		t.Run("garbage instead of a ClientHello", func(t *testing.T) {
			ev := newCtx()
			a, b := tcpPair(t, ev)
			writeAll(t, ev, a, []byte("GET / HTTP/1.0\r\n\r\n"))
			sreq := tsocket.TLSServerSend(ev, b, cfg.Server)
			poll(t, sreq)
			_, err := tsocket.TLSServerRecv(sreq)
			var rh tls.RecordHeaderError
			if !errors.As(err, &rh) {
				t.Fatalf("server: %v, want a tls.RecordHeaderError", err)
			}
			// The failed handshake leaves the plain stream to its owner.
			fd, err := b.Detach()
			if err != nil {
				t.Fatalf("detach after a failed handshake: %v", err)
			}
			if err := unix.Close(fd); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("peer closes mid-handshake", func(t *testing.T) {
			ev := newCtx()
			a, b := tcpPair(t, ev)
			sreq := tsocket.TLSServerSend(ev, b, cfg.Server)
			closeT(t, a)
			poll(t, sreq)
			if _, err := tsocket.TLSServerRecv(sreq); err == nil {
				t.Fatal("handshake with a closed peer succeeded")
			}
		})
		t.Run("peer stops mid-handshake: the end time bounds it", func(t *testing.T) {
			stalledHandshake(t, newCtx(), cfg.Server)
		})
		t.Run("stream closed mid-handshake", func(t *testing.T) {
			closedMidHandshake(t, newCtx(), cfg.Server)
		})
		t.Run("busy or closed stream", func(t *testing.T) {
			ev := newCtx()
			a, _ := tcpPair(t, ev)
			rd := tsocket.ReadSomeSend(ev, a, make([]byte, 1))
			sreq := tsocket.TLSServerSend(ev, a, cfg.Server)
			poll(t, sreq)
			if _, err := tsocket.TLSServerRecv(sreq); !errors.Is(err, tsocket.ErrBusy) {
				t.Fatalf("TLS on a stream with a read in flight: %v, want ErrBusy", err)
			}
			rd.Abandon()
			closeT(t, a)
			sreq = tsocket.TLSServerSend(ev, a, cfg.Server)
			poll(t, sreq)
			if _, err := tsocket.TLSServerRecv(sreq); !errors.Is(err, net.ErrClosed) {
				t.Fatalf("TLS on a closed stream: %v, want net.ErrClosed", err)
			}
		})
	})
}

// stalledHandshake: a peer that stops after a record header holds the
// handshake until the request's end time.
func stalledHandshake(t *testing.T, ev *tevent.Context, cfg *tls.Config) {
	t.Helper()
	handshakeFails(t, ev, cfg, tevent.ErrTimedOut, func(peer, s *tsocket.Stream, req *tevent.Req[*tsocket.Stream]) {
		writeAll(t, ev, peer, []byte{0x16, 0x03, 0x01, 0x00, 0x80}) // a record header, then silence
		req.SetEndTime(ev.Now().Add(50 * time.Millisecond))
	})
}

// closedMidHandshake: the handshake waits for a silent peer; closing the
// stream from the loop wakes it and ends it, whether it had started
// reading or not.
func closedMidHandshake(t *testing.T, ev *tevent.Context, cfg *tls.Config) {
	t.Helper()
	handshakeFails(t, ev, cfg, net.ErrClosed, func(_, s *tsocket.Stream, _ *tevent.Req[*tsocket.Stream]) {
		ev.AddTimer(ev.Now().Add(20*time.Millisecond), func(*tevent.Timer, time.Time) { closeT(t, s) })
	})
}

// handshakeFails starts a server handshake on a TCP pair, lets disturb
// act on the peer, the stream and the request, and checks that the
// handshake fails with an *OpError "tls" around want (or with want, for
// the request's own errors).
func handshakeFails(t *testing.T, ev *tevent.Context, cfg *tls.Config, want error, disturb func(peer, s *tsocket.Stream, req *tevent.Req[*tsocket.Stream])) {
	t.Helper()
	peer, s := tcpPair(t, ev)
	req := tsocket.TLSServerSend(ev, s, cfg)
	disturb(peer, s, req)
	poll(t, req)
	_, err := tsocket.TLSServerRecv(req)
	var op *tsocket.OpError
	if !errors.Is(err, want) || !errors.Is(want, tevent.ErrTimedOut) && (!errors.As(err, &op) || op.Op != "tls") {
		t.Fatalf("handshake: %v, want %v (in an OpError tls)", err, want)
	}
}

// Handshakes in flight at Close: the teardown stops them and waits for
// their goroutines (goleak checks at the end of the package's tests).
func TestTLSHandshakesAtClose(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cfg := testutil.TLS(t)
		var reqs []*tevent.Req[*tsocket.Stream]
		for range 10 {
			_, b := tcpPair(t, ev)
			reqs = append(reqs, tsocket.TLSServerSend(ev, b, cfg.Server))
		}
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		for _, r := range reqs {
			if _, err := tsocket.TLSServerRecv(r); !errors.Is(err, tevent.ErrClosed) {
				t.Fatalf("handshake at Close: %v, want ErrClosed", err)
			}
		}
	})
}

// The loop goes on serving while 200 handshakes are in flight: a timer
// keeps firing and a plain client keeps getting answers throughout.
func TestTLSLoopServesDuringHandshakes(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cfg := testutil.TLS(t)
		l, err := tsocket.Listen(ev, loopback4(t))
		if err != nil {
			t.Fatal(err)
		}
		n := 200
		if testing.Short() {
			n = 50
		}
		addr := l.Addr().(*tsocket.InetAddr).AddrPort().String()
		var wg sync.WaitGroup
		clientErrs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := tls.Dial("tcp", addr, cfg.Client)
				if err == nil {
					_, err = c.Read(make([]byte, 1)) // the server's one byte
					c.Close()
				}
				clientErrs <- err
			}()
		}
		done := 0
		ticks, answers := 0, 0
		tick := func(tm *tevent.Timer, now time.Time) {
			ticks++
			if done < n {
				tm.Reset(now.Add(time.Millisecond))
			}
		}
		ev.AddTimer(ev.Now().Add(time.Millisecond), tick)
		// A plain echo pair on the same loop, ping-ponging throughout.
		pa, pb := unixPair(t, ev)
		var ping func()
		ping = func() {
			if done >= n {
				return
			}
			w := tsocket.WritevSend(ev, pa, [][]byte{[]byte("p")})
			w.SetCallback(func(w *tevent.Req[int]) {
				tsocket.WritevRecv(w)
				r := tsocket.ReadSomeSend(ev, pb, make([]byte, 1))
				r.SetCallback(func(r *tevent.Req[int]) {
					if _, err := tsocket.ReadSomeRecv(r); err == nil {
						answers++
						ping()
					}
				})
			})
		}
		ping()
		var accept func()
		accept = func() {
			a := tsocket.AcceptSend(ev, l)
			a.SetCallback(func(a *tevent.Req[*tsocket.Stream]) {
				s, err := tsocket.AcceptRecv(a)
				if err != nil {
					t.Error(err)
					return
				}
				accept()
				hs := tsocket.TLSServerSend(ev, s, cfg.Server)
				hs.SetCallback(func(hs *tevent.Req[*tsocket.Stream]) {
					ts, err := tsocket.TLSServerRecv(hs)
					if err != nil {
						t.Error(err)
						s.Close()
						done++
						return
					}
					w := tsocket.WritevSend(ev, ts, [][]byte{[]byte("!")})
					w.SetCallback(func(w *tevent.Req[int]) {
						tsocket.WritevRecv(w)
						ts.Close()
						done++
						if done == n {
							l.Close()
						}
					})
				})
			})
		}
		accept()
		if err := ev.LoopUntil(func() bool { return done == n }); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		close(clientErrs)
		for err := range clientErrs {
			if err != nil {
				t.Fatalf("client: %v", err)
			}
		}
		if ticks < 2 || answers < 2 {
			t.Fatalf("during %d handshakes the timer fired %d times and the plain pair answered %d times", n, ticks, answers)
		}
		t.Logf("%d handshakes: %d timer ticks, %d plain round trips meanwhile", n, ticks, answers)
	})
}

// heldConn passes writes through until its first Read has returned data,
// then holds them until flush: a TLS 1.3 client's Finished and its first
// request then reach the server in one segment, as they often do for real.
type heldConn struct {
	net.Conn
	mu      sync.Mutex
	read    bool
	pending []byte
}

func (c *heldConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.read = c.read || n > 0
	c.mu.Unlock()
	return n, err
}

func (c *heldConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read {
		c.pending = append(c.pending, b...)
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *heldConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.Conn.Write(c.pending)
	return err
}

// A request that arrives with the handshake's last flight is read by
// crypto/tls during the handshake; the TLS stream must still hand it to
// the first read, ReadSomeFuncSend included, which waits for no readiness
// report that would never come.
func TestTLSRequestBehindFinished(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cfg := testutil.TLS(t)
		l, err := tsocket.Listen(ev, loopback4(t))
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, l)
		clientErr := make(chan error, 1)
		go func() {
			raw, err := net.Dial("tcp", l.Addr().(*tsocket.InetAddr).AddrPort().String())
			if err != nil {
				clientErr <- err
				return
			}
			hc := &heldConn{Conn: raw}
			c := tls.Client(hc, cfg.Client)
			if err = c.Handshake(); err == nil {
				if _, err = c.Write([]byte("PING\r\n")); err == nil {
					err = hc.flush()
				}
			}
			if err == nil {
				_, err = c.Read(make([]byte, 1)) // until the server closes
				if err == io.EOF {
					err = nil
				}
			}
			raw.Close() // before the result: the test's fd check follows it
			clientErr <- err
		}()
		s := acceptTLS(t, ev, l, cfg.Server)
		buf := make([]byte, 64)
		rd := tsocket.ReadSomeFuncSend(ev, s, func() []byte { return buf })
		rd.SetEndTime(ev.Now().Add(10 * time.Second))
		poll(t, rd)
		got, err := tsocket.ReadSomeFuncRecv(rd)
		if err != nil || string(got) != "PING\r\n" {
			t.Fatalf("first read on the TLS stream: %q, %v; want the request sent with Finished", got, err)
		}
		s.Close()
		if err := <-clientErr; err != nil {
			t.Fatalf("client: %v", err)
		}
	})
}

// acceptTLS accepts one connection on l and returns it upgraded to TLS as
// the server.
func acceptTLS(t *testing.T, ev *tevent.Context, l *tsocket.Listener, cfg *tls.Config) *tsocket.Stream {
	t.Helper()
	plain := must(t, tsocket.AcceptSend(ev, l))
	return must(t, tsocket.TLSServerSend(ev, plain, cfg))
}

// dialTLS connects to addr, a net.Addr of a standard-library peer, and
// returns the stream upgraded to TLS as the client.
func dialTLS(t *testing.T, ev *tevent.Context, addr net.Addr, cfg *tls.Config) *tsocket.Stream {
	t.Helper()
	ap, err := tsocket.ParseAddress(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	plain := must(t, tsocket.ConnectSend(ev, nil, ap))
	return must(t, tsocket.TLSClientSend(ev, plain, cfg))
}

// Records that arrive together are all read, whatever the buffer: a read
// that stops at a record's end while crypto/tls holds the next one must
// not wait for the socket, which will never announce it. Each read has an
// end time on a fake clock, so a read left waiting fails rather than
// hangs.
func TestTLSRecordsArrivingTogether(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		clock := tevent.NewFakeClock(time.Unix(1e9, 0))
		ev := newCtx(tevent.WithClock(clock))
		cli, srv := tlsPair(t, ev)
		for _, size := range []int{1, 7, 10, 15, 30, 64 << 10} {
			var want []byte
			for i, n := range []int{10, 20, 30} { // one record each, all in the socket before the server reads
				m := bytes.Repeat([]byte{byte('a' + i)}, n)
				writeAll(t, ev, cli, m)
				want = append(want, m...)
			}
			// ReadSomeFuncSend waits for the loop unless the transport
			// says it holds input; ReadSomeSend tries at once.
			var got []byte
			for i := 0; len(got) < len(want); i++ {
				var p []byte
				var err error
				if i%2 == 0 {
					req := tsocket.ReadSomeFuncSend(ev, srv, func() []byte { return make([]byte, size) })
					req.SetEndTime(ev.Now().Add(time.Minute))
					poll(t, req)
					p, err = tsocket.ReadSomeFuncRecv(req)
				} else {
					buf := make([]byte, size)
					req := tsocket.ReadSomeSend(ev, srv, buf)
					req.SetEndTime(ev.Now().Add(time.Minute))
					poll(t, req)
					var n int
					n, err = tsocket.ReadSomeRecv(req)
					p = buf[:n]
				}
				if err != nil {
					t.Fatalf("buffer of %d: read after %d of %d bytes: %v", size, len(got), len(want), err)
				}
				got = append(got, p...)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("buffer of %d: read %q, want %q", size, got, want)
			}
		}
	})
}

// A TLS record costs one allocation in steady state, crypto/tls's: a
// write and a read on TLS streams allocate their two requests, as on a
// plain stream, and crypto/tls an atLeastReader for each read of its
// connection (conn.go, readFromUntil; one per record, as the shim hands
// it the whole record at once). It seals into a pooled buffer and reads
// into the one it keeps; the shim and the transport keep theirs.
func TestTLSAllocations(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cli, srv := tlsPair(t, ev)
		msg := [][]byte{[]byte("pi"), []byte("ng")}
		buf := make([]byte, 64)
		round := func() {
			w := tsocket.WritevSend(ev, cli, msg)
			r := tsocket.ReadSomeSend(ev, srv, buf)
			if n, err := tsocket.ReadSomeRecv(pollReq(t, r)); err != nil || string(buf[:n]) != "ping" {
				t.Fatalf("read %q, %v", buf[:n], err)
			}
			if _, err := tsocket.WritevRecv(pollReq(t, w)); err != nil {
				t.Fatalf("write: %v", err)
			}
		}
		for range 3 {
			round() // buffers grown, pools filled
		}
		limit := 3.0
		if raceEnabled {
			limit = 5 // crypto/tls's pooled buffers, dropped by the race detector's sync.Pool
		}
		if avg := testing.AllocsPerRun(100, round); avg > limit {
			t.Errorf("%.1f allocations per TLS write and read; want at most %.0f (the requests, crypto/tls's reader)", avg, limit)
		}
	})
}

// A handshake that cannot have a duplicate of its descriptor for Go's
// poller (none left) crosses to the loop for what would block instead:
// handshakes, records, a peer that stalls and a stream closed mid-handshake
// all behave the same.
func TestTLSHandshakeCrossings(t *testing.T) {
	old := tsocket.SetTLSPoller(false)
	defer tsocket.SetTLSPoller(old)
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cli, srv := tlsPair(t, ev)
		writeAll(t, ev, cli, []byte("hello"))
		buf := make([]byte, 16)
		r := tsocket.ReadSomeSend(ev, srv, buf)
		if n, err := tsocket.ReadSomeRecv(pollReq(t, r)); err != nil || string(buf[:n]) != "hello" {
			t.Fatalf("read %q, %v", buf[:n], err)
		}
		cfg := testutil.TLS(t)
		stalledHandshake(t, ev, cfg.Server)
		closedMidHandshake(t, ev, cfg.Server)
	})
}
