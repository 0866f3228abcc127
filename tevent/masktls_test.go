package tevent_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// stdConn wraps fd, one end of a socketpair, in a net.Conn for a
// crypto/tls peer on another goroutine.
func stdConn(t *testing.T, fd int) net.Conn {
	t.Helper()
	f := os.NewFile(uintptr(fd), "peer")
	c, err := net.FileConn(f)
	f.Close() // FileConn made its own copy
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// tlsEcho is a callback-mask TLS server: lines in, upper-case lines out.
type tlsEcho struct {
	in   tevent.LineState
	out  []byte
	wst  tevent.IOState
	done chan error
}

func (s *tlsEcho) serve(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
	for {
		if len(s.out) > 0 {
			switch e.IOWrite(s.out, &s.wst) {
			case tevent.IOPending:
				return s.wst.Need
			case tevent.IOFailed:
				return s.end(e, s.wst.Err)
			}
			s.out = nil
		}
		line, need, err := e.ReadUntil([]byte("\n"), &s.in)
		switch {
		case err == unix.EAGAIN:
			return need
		case err != nil:
			return s.end(e, err)
		}
		s.out = bytes.ToUpper(line)
	}
}

func (s *tlsEcho) end(e *tevent.MaskEvent, err error) tevent.Flags {
	e.Close()
	s.done <- err
	return 0
}

func TestMaskStartTLS(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cfg := testutil.TLS(t)
		fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0) // non-blocking, close-on-exec
		if err != nil {
			t.Fatal(err)
		}
		peer := stdConn(t, fds[1])
		clientErr := make(chan error, 1)
		go func() {
			defer peer.Close()
			c := tls.Client(peer, cfg.Client)
			var err error
			defer func() { clientErr <- err }()
			if _, err = c.Write([]byte("hello\nworld\n")); err != nil {
				return
			}
			// A line longer than a record: TLS splits it, ReadUntil joins it.
			if _, err = c.Write(append(bytes.Repeat([]byte("x"), 40000), '\n')); err != nil {
				return
			}
			r := bufio.NewReader(c)
			for _, want := range []string{"HELLO\n", "WORLD\n"} {
				var line string
				if line, err = r.ReadString('\n'); err != nil {
					return
				}
				if line != want {
					err = errors.New("got " + line)
					return
				}
			}
			var long string
			if long, err = r.ReadString('\n'); err == nil && len(long) != 40001 {
				err = errors.New("long line came back short")
			}
			err = c.Close() // close_notify: the server reads EOF
		}()
		srv := &tlsEcho{in: tevent.LineState{MaxRecord: 64 << 10}, done: make(chan error, 1)}
		e := ev.BuildFDEvent(fds[0], tevent.FDRead, srv.serve, nil)
		if err := e.StartTLS(cfg.Server, true); err != nil {
			t.Fatal(err)
		}
		if err := e.StartTLS(cfg.Server, true); !errors.Is(err, unix.EINVAL) {
			t.Fatalf("second StartTLS = %v, want EINVAL", err)
		}
		if err := ev.ScheduleEvent(e); err != nil {
			t.Fatal(err)
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		if err := <-srv.done; !errors.Is(err, io.EOF) {
			t.Fatalf("server ended with %v, want io.EOF after close_notify", err)
		}
		if err := <-clientErr; err != nil {
			t.Fatalf("crypto/tls client: %v", err)
		}
	})
}

// A handshake that fails (garbage instead of a ClientHello) fails the
// event's next Read with crypto/tls's error.
func TestMaskStartTLSHandshakeError(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cfg := testutil.TLS(t)
		a, b := testutil.Socketpair(t)
		if _, err := unix.Write(b, []byte("GET / HTTP/1.0\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		var got error
		e := ev.BuildFDEvent(a, tevent.FDRead, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
			_, need, err := e.Read(make([]byte, 10))
			if err == unix.EAGAIN {
				return need
			}
			got = err
			return 0
		}, nil)
		if err := e.StartTLS(cfg.Server, true); err != nil {
			t.Fatal(err)
		}
		if err := ev.ScheduleEvent(e); err != nil {
			t.Fatal(err)
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		var rh tls.RecordHeaderError
		if !errors.As(got, &rh) {
			t.Fatalf("Read after a bad ClientHello = %v, want a tls.RecordHeaderError", got)
		}
	})
}

// A handshake in flight when the context closes is stopped, and its
// goroutine gone by the time Done is closed.
func TestMaskStartTLSAtClose(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		cfg := testutil.TLS(t)
		a, _ := testutil.Socketpair(t) // a silent peer
		e := ev.BuildFDEvent(a, tevent.FDRead, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
			_, need, _ := e.Read(make([]byte, 10))
			return need
		}, nil)
		if err := e.StartTLS(cfg.Server, true); err != nil {
			t.Fatal(err)
		}
		if err := ev.ScheduleEvent(e); err != nil {
			t.Fatal(err)
		}
		if err := ev.Close(); err != nil {
			t.Fatal(err)
		}
		<-ev.Done()
	})
}
