package tsocket_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// readErr reads s until an error and returns it.
func readErr(t *testing.T, ev *tevent.Context, s *tsocket.Stream) error {
	t.Helper()
	buf := make([]byte, 4096)
	for {
		r := tsocket.ReadSomeSend(ev, s, buf)
		r.SetEndTime(ev.Now().Add(20 * time.Second))
		poll(t, r)
		if _, err := tsocket.ReadSomeRecv(r); err != nil {
			return err
		}
	}
}

// Bad input after the handshake ends the connection with a clear error,
// and nothing else on the loop stalls: a record larger than TLS allows,
// and a peer that resets in the middle of a record.
func TestTLSBadRecords(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		t.Run("oversized record", func(t *testing.T) {
			ev := newCtx()
			cli, srv := tlsPair(t, ev)
			hdr := []byte{23, 3, 3, 0x50, 0x00} // application data, 20 KiB: past 2^14+256
			if _, err := unix.Write(cli.Fd(), append(hdr, bytes.Repeat([]byte{1}, 100)...)); err != nil {
				t.Fatal(err)
			}
			var rh tls.RecordHeaderError
			if err := readErr(t, ev, srv); !errors.As(err, &rh) {
				t.Fatalf("read of an oversized record: %v, want a tls.RecordHeaderError", err)
			}
		})
		t.Run("reset mid-record", func(t *testing.T) {
			ev := newCtx()
			cli, srv := tlsPair(t, ev)
			if _, err := unix.Write(cli.Fd(), []byte{23, 3, 3, 0x01, 0x00, 9, 9, 9}); err != nil {
				t.Fatal(err)
			}
			if err := cli.SetLinger(0); err != nil {
				t.Fatal(err)
			}
			cli.Close()
			if err := readErr(t, ev, srv); !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("read after a reset mid-record: %v, want ECONNRESET", err)
			}
		})
	})
}

// FuzzTLSServer feeds random bytes to a TLS server stream: the handshake
// fails with an error (or, for the seed that is a real ClientHello's
// start, waits and times out), never a panic or a hang, and no goroutine
// is left (goleak at the end of the package).
func FuzzTLSServer(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Add([]byte{22, 3, 1, 0, 5, 1, 0, 0, 1, 0})
	f.Add([]byte{22, 3, 3, 0xff, 0xff})
	f.Add([]byte{21, 3, 3, 0, 2, 2, 40})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := tevent.NewContext(tevent.WithClock(tevent.NewFakeClock(time.Unix(1e9, 0))))
		if err != nil {
			t.Fatal(err)
		}
		defer ev.Close()
		a, b, err := tsocket.Socketpair(ev)
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		defer b.Close()
		if len(data) > 0 {
			if _, err := unix.Write(a.Fd(), data); err != nil {
				t.Fatal(err)
			}
		}
		if err := unix.Shutdown(a.Fd(), unix.SHUT_WR); err != nil {
			t.Fatal(err)
		}
		hs := tsocket.TLSServerSend(ev, b, testutil.TLS(t).Server)
		// The fake clock jumps to the end time only once nothing else is
		// ready, so a handshake still reading gets every byte first.
		hs.SetEndTime(ev.Now().Add(time.Minute))
		if err := hs.Poll(); err != nil {
			t.Fatal(err)
		}
		if s, err := tsocket.TLSServerRecv(hs); err == nil {
			s.Close()
			t.Fatal("a handshake with random bytes and then EOF succeeded")
		}
	})
}

// openssl s_client, a real TLS client, against a TLS stream: a line each
// way, then a TLS 1.2 renegotiation, which the server refuses with a
// clear error (crypto/tls has no server-side renegotiation).
func TestTLSWithOpenSSL(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed: .ci/run installs it with the Debian package openssl")
	}
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cfg := testutil.TLS(t)
		certFile, _ := testutil.WriteTLSFiles(t, t.TempDir())
		l, err := tsocket.Listen(ev, loopback4(t))
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, l)
		srvCfg := cfg.Server.Clone()
		srvCfg.MaxVersion = tls.VersionTLS12 // so that the client may renegotiate
		cmd := exec.Command(openssl, "s_client", "-connect", l.Addr().(*tsocket.InetAddr).AddrPort().String(),
			"-CAfile", certFile, "-verify_return_error", "-servername", "localhost")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer stdin.Close()
		plain := must(t, tsocket.AcceptSend(ev, l))
		hs := tsocket.TLSServerSend(ev, plain, srvCfg)
		hs.SetEndTime(ev.Now().Add(20 * time.Second))
		poll(t, hs)
		s, err := tsocket.TLSServerRecv(hs)
		if err != nil {
			t.Fatalf("handshake with openssl: %v\n%s", err, out.String())
		}
		defer s.Close()
		if _, err := io.WriteString(stdin, "hello from openssl\n"); err != nil {
			t.Fatal(err)
		}
		r := tsocket.NewReader(ev, s, 100)
		lr := tsocket.ReadUntilSend(ev, r, []byte("\n"))
		lr.SetEndTime(ev.Now().Add(20 * time.Second))
		poll(t, lr)
		if line, err := tsocket.ReadUntilRecv(lr); err != nil || string(line) != "hello from openssl\n" {
			t.Fatalf("line from openssl: %q, %v\n%s", line, err, out.String())
		}
		// "R" on a line of its own makes s_client renegotiate.
		if _, err := io.WriteString(stdin, "R\n"); err != nil {
			t.Fatal(err)
		}
		lr = tsocket.ReadUntilSend(ev, r, []byte("\n"))
		lr.SetEndTime(ev.Now().Add(20 * time.Second))
		poll(t, lr)
		_, err = tsocket.ReadUntilRecv(lr)
		if err == nil || errors.Is(err, tevent.ErrTimedOut) {
			t.Fatalf("after openssl renegotiated: %v, want crypto/tls's refusal\n%s", err, out.String())
		}
		if !strings.Contains(err.Error(), "tls") {
			t.Errorf("renegotiation error %q does not say tls", err)
		}
	})
}
