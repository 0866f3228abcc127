package tsocket_test

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// OpError is a net.Error whose Timeout and Temporary answer as
// net.OpError's do for the same cause.
func TestOpErrorNetError(t *testing.T) {
	sys := func(call string, e syscall.Errno) error { return os.NewSyscallError(call, e) }
	tests := []struct {
		name               string
		op                 string
		err                error
		timeout, temporary bool
		netErr             error // what net.OpError is tested with, if not err
	}{
		{"connect timed out", "connect", sys("connect", syscall.ETIMEDOUT), true, true, nil},
		{"request end time", "readv", tevent.ErrTimedOut, true, true, syscall.ETIMEDOUT},
		{"unix connect, full backlog", "connect", sys("connect", syscall.EAGAIN), true, true, nil},
		{"deadline", "read", os.ErrDeadlineExceeded, true, true, nil},
		{"reset while reading", "read", sys("read", syscall.ECONNRESET), false, false, nil},
		// net.OpError looks for the bare errno here, though its own accept
		// wraps it in an *os.SyscallError; errors.Is finds it either way.
		{"reset while accepting", "accept", sys("accept4", syscall.ECONNRESET), false, true, syscall.ECONNRESET},
		{"out of descriptors", "accept", sys("accept4", syscall.EMFILE), false, true, nil},
		{"refused", "connect", sys("connect", syscall.ECONNREFUSED), false, false, nil},
		{"closed", "writev", net.ErrClosed, false, false, nil},
		{"busy", "readv", tsocket.ErrBusy, false, false, nil},
	}
	for _, tt := range tests {
		ne := &tsocket.OpError{Op: tt.op, Net: "tcp", Err: tt.err}
		var _ net.Error = ne
		// What net.OpError says for the same cause.
		want := &net.OpError{Op: tt.op, Net: "tcp", Err: tt.err}
		if tt.netErr != nil {
			want.Err = tt.netErr
		}
		if got := ne.Timeout(); got != tt.timeout || got != want.Timeout() {
			t.Errorf("%s: Timeout() = %v, want %v (net.OpError: %v)", tt.name, got, tt.timeout, want.Timeout())
		}
		if got := ne.Temporary(); got != tt.temporary || got != want.Temporary() {
			t.Errorf("%s: Temporary() = %v, want %v (net.OpError: %v)", tt.name, got, tt.temporary, want.Temporary())
		}
	}
}

// opOf returns the Op of err's *OpError, or what err is if it has none.
func opOf(err error) string {
	var oe *tsocket.OpError
	if !errors.As(err, &oe) {
		return "no OpError: " + errString(err)
	}
	return oe.Op
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// Every request of a kind fails with the same Op, whether it is refused
// at once, fails in flight, or is failed by Close; the system call that
// failed is named inside, not in Op.
func TestOpErrorOps(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		type result struct {
			name, op string
		}
		var got, want []result
		check := func(name, op string, err error) {
			got = append(got, result{name, opOf(err)})
			want = append(want, result{name, op})
		}
		buf := make([]byte, 8)
		get := func() []byte { return buf }
		next := func(*tsocket.Stream) ([][]byte, error) { return [][]byte{buf}, nil }

		// In flight when Close fails them: Err is net.ErrClosed, Op the
		// request's.
		_, b := unixPair(t, ev)
		for _, tt := range []struct {
			name, op string
			start    func() func() error
		}{
			{"ReadvSend", "readv", func() func() error {
				req := tsocket.ReadvSend(ev, b, [][]byte{buf})
				return func() error { _, err := tsocket.ReadvRecv(req); return err }
			}},
			{"ReadSomeSend", "read", func() func() error {
				req := tsocket.ReadSomeSend(ev, b, buf)
				return func() error { _, err := tsocket.ReadSomeRecv(req); return err }
			}},
			{"ReadSomeFuncSend", "read", func() func() error {
				req := tsocket.ReadSomeFuncSend(ev, b, get)
				return func() error { _, err := tsocket.ReadSomeFuncRecv(req); return err }
			}},
			{"ReadvSomeFuncSend", "readv", func() func() error {
				req := tsocket.ReadvSomeFuncSend(ev, b, func() [][]byte { return [][]byte{buf} })
				return func() error { _, err := tsocket.ReadvSomeFuncRecv(req); return err }
			}},
			{"ReadvPDUSend", "readv", func() func() error {
				req := tsocket.ReadvPDUSend(ev, b, next)
				return func() error { return tsocket.ReadvPDURecv(req) }
			}},
		} {
			recv := tt.start()
			b.Close() // the request has failed; only its callback waits
			err := recv()
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s failed by Close: %v, want net.ErrClosed", tt.name, err)
			}
			check(tt.name+" failed by Close", tt.op, err)
			_, b = unixPair(t, ev)
		}

		// A writev in flight failed by Close, then refused on the closed
		// stream.
		a, b := unixPair(t, ev)
		w := tsocket.WritevSend(ev, a, [][]byte{make([]byte, 8<<20)})
		if !w.IsInProgress() {
			t.Fatal("an 8 MiB write to a socketpair nobody reads finished at once")
		}
		a.Close()
		poll(t, w)
		_, err := tsocket.WritevRecv(w)
		check("WritevSend failed by Close", "writev", err)
		_, err = tsocket.WritevRecv(pollReq(t, tsocket.WritevSend(ev, a, [][]byte{buf})))
		check("WritevSend on a closed stream", "writev", err)
		_, err = tsocket.ReadSomeRecv(pollReq(t, tsocket.ReadSomeSend(ev, a, buf)))
		check("ReadSomeSend on a closed stream", "read", err)
		err = tsocket.ReadvPDURecv(pollReq(t, tsocket.ReadvPDUSend(ev, a, next)))
		check("ReadvPDUSend on a closed stream", "readv", err)
		_, err = tsocket.ReadvSomeFuncRecv(pollReq(t, tsocket.ReadvSomeFuncSend(ev, a, func() [][]byte { return [][]byte{buf} })))
		check("ReadvSomeFuncSend on a closed stream", "readv", err)

		// A socket call failing inside the request: the peer of b is
		// gone, so a write says EPIPE, named in an *os.SyscallError.
		_, err = tsocket.WritevRecv(pollReq(t, tsocket.WritevSend(ev, b, [][]byte{buf})))
		var se *os.SyscallError
		if !errors.Is(err, syscall.EPIPE) || !errors.As(err, &se) || se.Syscall != "send" {
			t.Errorf("write to a closed peer: %v, want EPIPE from send", err)
		}
		check("WritevSend to a closed peer", "writev", err)

		// Datagrams.
		d, err := tsocket.UDPSocket(ev, loopback4(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		r := tsocket.RecvFromSend(ev, d)
		d.Close()
		poll(t, r)
		_, _, err = tsocket.RecvFromRecv(r)
		check("RecvFromSend failed by Close", "recvfrom", err)
		_, err = tsocket.SendToRecv(pollReq(t, tsocket.SendToSend(ev, d, buf, nil)))
		check("SendToSend on a closed socket", "sendto", err)

		if diff := cmp.Diff(want, got, cmp.AllowUnexported(result{})); diff != "" {
			t.Errorf("Op mismatch (-want +got):\n%s", diff)
		}
	})
}
