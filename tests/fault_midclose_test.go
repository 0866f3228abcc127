package tests

import (
	bin "encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// pduReader splits a stream of PDUs with a 4-byte big-endian length header,
// as a NextVectorFunc: header first, then the body the header announces.
type pduReader struct {
	hdr  [4]byte
	body []byte
	step int
}

func (p *pduReader) next(*tsocket.Stream) ([][]byte, error) {
	p.step++
	switch p.step {
	case 1:
		return [][]byte{p.hdr[:]}, nil
	case 2:
		n := bin.BigEndian.Uint32(p.hdr[:])
		if n > 1<<20 {
			return nil, fmt.Errorf("PDU of %d bytes", n)
		}
		if n == 0 {
			return nil, nil // no body: the PDU ends with its header
		}
		p.body = make([]byte, n)
		return [][]byte{p.body}, nil
	}
	return nil, nil
}

func pdu(body string) string {
	var h [4]byte
	bin.BigEndian.PutUint32(h[:], uint32(len(body)))
	return string(h[:]) + body
}

// writeAll writes s to a stream through the loop.
func writeAll(t testing.TB, ev *tevent.Context, s *tsocket.Stream, data string) {
	t.Helper()
	w := tsocket.WritevSend(ev, s, [][]byte{[]byte(data)})
	waitFor(t, ev, "a write", w)
	if _, err := tsocket.WritevRecv(w); err != nil {
		t.Fatalf("writev: %v", err)
	}
}

// readPDUs reads PDUs from s until the stream ends, and returns them and
// the error that ended them.
func readPDUs(t testing.TB, ev *tevent.Context, s *tsocket.Stream) ([]string, error) {
	t.Helper()
	var got []string
	for {
		p := &pduReader{}
		req := tsocket.ReadvPDUSend(ev, s, p.next)
		waitFor(t, ev, "a PDU", req)
		if err := tsocket.ReadvPDURecv(req); err != nil {
			return got, err
		}
		got = append(got, string(p.body))
	}
}

// A peer that closes in the middle of a PDU, its header or its body, fails
// the ReadvPDU in flight with io.ErrUnexpectedEOF after the whole PDUs before
// it were delivered; closing between PDUs is io.EOF; a reset is an error
// that is neither. A bystander on the same loop is unaffected.
func TestFaultPeerClosesMidPDU(t *testing.T) {
	cases := []struct {
		name    string
		sent    string
		reset   bool
		want    []string
		wantErr func(error) bool
	}{
		{name: "mid-body", sent: pdu("one") + pdu("two")[:4+1], want: []string{"one"},
			wantErr: func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{name: "mid-header", sent: pdu("one") + pdu("two")[:2], want: []string{"one"},
			wantErr: func(err error) bool { return err == io.ErrUnexpectedEOF }},
		{name: "between", sent: pdu("one") + pdu(""), want: []string{"one", ""},
			wantErr: func(err error) bool { return err == io.EOF }},
		{name: "reset-mid-body", sent: pdu("one") + pdu("two")[:5], reset: true,
			wantErr: func(err error) bool { return err != nil && err != io.EOF }},
	}
	forEachBackend(t, func(t *testing.T, backend string) {
		for _, network := range []string{"tcp", "unix"} {
			t.Run(network, func(t *testing.T) {
				testutil.NoFDLeak(t)
				ev := ctxOn(t, backend)
				by1, by2 := streamsOf(t, ev, network)
				for _, tc := range cases {
					if tc.reset && network != "tcp" {
						continue
					}
					peer, s := streamsOf(t, ev, network)
					writeAll(t, ev, peer, tc.sent)
					if tc.reset {
						// The reader has not read yet: an RST discards what
						// is queued, so which PDUs arrive depends on timing;
						// only the end is checked.
						setLinger0(t, peer.Fd())
					}
					if err := peer.Close(); err != nil {
						t.Fatal(err)
					}
					got, err := readPDUs(t, ev, s)
					if !tc.wantErr(err) {
						t.Errorf("%s: ended with %v", tc.name, err)
					}
					if !tc.reset {
						if diff := cmp.Diff(tc.want, got); diff != "" {
							t.Errorf("%s: PDUs mismatch (-want +got):\n%s", tc.name, diff)
						}
					}
					if err := s.Close(); err != nil {
						t.Errorf("%s: Close: %v", tc.name, err)
					}
					// The bystander still exchanges PDUs.
					writeAll(t, ev, by1, pdu(tc.name))
					p := &pduReader{}
					req := tsocket.ReadvPDUSend(ev, by2, p.next)
					waitFor(t, ev, "the bystander's PDU", req)
					if err := tsocket.ReadvPDURecv(req); err != nil || string(p.body) != tc.name {
						t.Fatalf("bystander after %s: %q, %v", tc.name, p.body, err)
					}
				}
			})
		}
	})
}

// lineServer is a mask-API line server for one connection: it reads
// CRLF-terminated records with ReadUntil and answers each with "ok
// <record>". When input ends it still writes the replies it owes, then
// closes the event and its fd, and records how the input ended.
type lineServer struct {
	st      tevent.LineState
	records []string
	end     error // why input ended; nil while it goes on
	out     []byte
	wst     tevent.IOState
	closed  bool
}

func (ls *lineServer) serve(e *tevent.MaskEvent, mask tevent.Flags, _ time.Time) tevent.Flags {
	for ls.end == nil {
		rec, _, err := e.ReadUntil([]byte("\r\n"), &ls.st)
		if err == unix.EAGAIN {
			break
		}
		if err != nil {
			ls.end = err
			break
		}
		ls.records = append(ls.records, string(rec))
		ls.out = append(ls.out, "ok "...)
		ls.out = append(ls.out, rec...)
	}
	if len(ls.out) > 0 {
		switch e.IOWrite(ls.out, &ls.wst) {
		case tevent.IOPending:
			if ls.end == nil {
				return tevent.FDRead | ls.wst.Need
			}
			return ls.wst.Need
		case tevent.IOFailed:
			ls.end = errors.Join(ls.end, ls.wst.Err)
		}
		ls.out = ls.out[:0]
	}
	if ls.end != nil {
		ls.closed = true
		if err := e.Close(); err != nil {
			ls.end = errors.Join(ls.end, err)
		}
		return 0
	}
	return tevent.FDRead
}

// A peer that closes in the middle of a line read through the mask API's
// ReadUntil gets its complete lines served; the server sees
// io.ErrUnexpectedEOF with the partial line still in LineState.Buffered,
// closes the event (and fd), and a second connection on the same loop goes on
// being served. Closing between lines is io.EOF.
func TestFaultPeerClosesMidLine(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		testutil.NoFDLeak(t)
		fds := newRawFDs(t)
		ev := ctxOn(t, backend)

		start := func() (peer int, ls *lineServer) {
			peer, srv := fds.tcp(t)
			fds.forget(srv) // the server's event closes it
			ls = &lineServer{}
			if err := ev.ScheduleEvent(ev.BuildFDEvent(srv, tevent.FDRead, ls.serve, ls)); err != nil {
				t.Fatal(err)
			}
			return peer, ls
		}
		// send writes s to a raw peer fd (small: it fits the socket buffer).
		send := func(fd int, s string) {
			if n, err := unix.Write(fd, []byte(s)); n != len(s) || err != nil {
				t.Fatalf("write %q: %d, %v", s, n, err)
			}
		}
		// expectReply reads exactly want from a raw peer fd through the loop.
		expectReply := func(fd int, want string) {
			got := make([]byte, 0, len(want))
			buf := make([]byte, len(want))
			var readErr error
			e := ev.BuildFDEvent(fd, tevent.FDRead, func(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
				n, need, err := e.Read(buf[:len(want)-len(got)])
				if err == unix.EAGAIN {
					return need
				}
				if err != nil {
					readErr = err
					return 0
				}
				got = append(got, buf[:n]...)
				if len(got) < len(want) {
					return tevent.FDRead
				}
				return 0
			}, nil)
			if err := ev.ScheduleEvent(e); err != nil {
				t.Fatal(err)
			}
			runUntil(t, ev, "a reply", func() bool { return readErr != nil || len(got) == len(want) })
			if readErr != nil || string(got) != want {
				t.Fatalf("reply %q, %v; want %q", got, readErr, want)
			}
		}

		byPeer, byLS := start()
		send(byPeer, "x1 HELLO\r\n")
		expectReply(byPeer, "ok x1 HELLO\r\n")

		for _, tc := range []struct {
			name     string
			sent     string
			records  []string
			end      error
			buffered string
		}{
			{"mid-line", "a1 NOOP\r\nb2 NO", []string{"a1 NOOP\r\n"}, io.ErrUnexpectedEOF, "b2 NO"},
			{"mid-delimiter", "a1 NOOP\r\nb2 NOOP\r", []string{"a1 NOOP\r\n"}, io.ErrUnexpectedEOF, "b2 NOOP\r"},
			{"between-lines", "a1 NOOP\r\nb2 NOOP\r\n", []string{"a1 NOOP\r\n", "b2 NOOP\r\n"}, io.EOF, ""},
		} {
			peer, ls := start()
			send(peer, tc.sent)
			// Half-close: the peer still reads the replies to its complete
			// lines, so nothing the server owed it is lost.
			if err := unix.Shutdown(peer, unix.SHUT_WR); err != nil {
				t.Fatal(err)
			}
			runUntil(t, ev, "the server to see the close", func() bool { return ls.closed })
			if diff := cmp.Diff(tc.records, ls.records); diff != "" {
				t.Errorf("%s: records mismatch (-want +got):\n%s", tc.name, diff)
			}
			if !errors.Is(ls.end, tc.end) {
				t.Errorf("%s: ended with %v, want %v", tc.name, ls.end, tc.end)
			}
			if got := string(ls.st.Buffered()); got != tc.buffered {
				t.Errorf("%s: Buffered() = %q, want %q", tc.name, got, tc.buffered)
			}
			// The replies to the complete lines went out before the close
			// was seen (they were written in the same callback as the
			// records were read).
			var want string
			for _, r := range tc.records {
				want += "ok " + r
			}
			if want != "" {
				expectReply(peer, want)
			}
			fds.close(t, peer)

			// The other connection is still served.
			send(byPeer, "x2 "+tc.name+"\r\n")
			expectReply(byPeer, "ok x2 "+tc.name+"\r\n")
		}
		fds.close(t, byPeer)
		runUntil(t, ev, "the bystander's server to see EOF", func() bool { return byLS.closed })
		if byLS.end != io.EOF {
			t.Errorf("bystander ended with %v, want io.EOF", byLS.end)
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
	})
}

// respExchange sends req on s and checks that exactly want comes back.
func respExchange(t testing.TB, ev *tevent.Context, s *tsocket.Stream, req, want string) {
	t.Helper()
	got := make([]byte, len(want))
	w := tsocket.WritevSend(ev, s, [][]byte{[]byte(req)})
	r := tsocket.ReadvSend(ev, s, [][]byte{got})
	runUntil(t, ev, "a RESP reply", func() bool { return !w.IsInProgress() && !r.IsInProgress() })
	if _, err := tsocket.WritevRecv(w); err != nil {
		t.Fatalf("write %q: %v", req, err)
	}
	if _, err := tsocket.ReadvRecv(r); err != nil {
		t.Fatalf("read the reply to %q: %v", req, err)
	}
	if string(got) != want {
		t.Fatalf("reply to %q = %q, want %q", req, got, want)
	}
}

// respArray encodes a command as a RESP multibulk array.
func respArray(args ...string) string {
	s := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		s += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
	}
	return s
}

// A client that vanishes in the middle of a RESP command, by FIN or by RST,
// at every kind of place in the command, is dropped by the demo's
// resp.Server: its connection count falls back, no descriptor stays open,
// complete commands it pipelined before the partial one were executed, and
// the server goes on serving a client connected all along.
func TestFaultPeerClosesMidRESP(t *testing.T) {
	set := respArray("SET", "done", "yes")
	partials := []struct{ name, sent string }{
		{"mid-count", "*"},
		{"mid-array-header", "*3\r"},
		{"mid-bulk-header", "*3\r\n$3\r\nSET\r\n$"},
		{"mid-bulk", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel"},
		{"before-final-crlf", "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r"},
		{"mid-inline", "SET k hel"},
		{"complete-then-partial", set + "*2\r\n$3\r\nGET\r\n$4\r\ndo"},
	}
	forEachBackend(t, func(t *testing.T, backend string) {
		testutil.NoFDLeak(t)
		ev := ctxOn(t, backend)
		l, err := tsocket.Listen(ev, loopbackAny(t))
		if err != nil {
			t.Fatal(err)
		}
		ks := resp.NewKeyspace(ev)
		store := ks.Store(0)
		srv := resp.NewServer(ev, l, ks, resp.DefaultConfig())
		var logged []string
		srv.Log = func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
		defer srv.Close()

		dial := func() *tsocket.Stream {
			c := tsocket.ConnectSend(ev, nil, l.Addr())
			waitFor(t, ev, "connect", c)
			s, err := tsocket.ConnectRecv(c)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		by := dial()
		respExchange(t, ev, by, respArray("PING"), "+PONG\r\n")
		if srv.Conns() != 1 {
			t.Fatalf("%d connections, want 1", srv.Conns())
		}
		for _, reset := range []bool{false, true} {
			for _, p := range partials {
				name := p.name
				if reset {
					name += "/rst"
				}
				c := dial()
				writeAll(t, ev, c, p.sent)
				// Let the server accept it and read what was sent.
				runUntil(t, ev, name+": the accept", func() bool { return srv.Conns() == 2 })
				if reset {
					setLinger0(t, c.Fd())
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				runUntil(t, ev, name+": the server to drop the connection", func() bool { return srv.Conns() == 1 })
				// The bystander is served, and sees what the complete
				// commands did.
				if strings.HasPrefix(p.sent, set) {
					respExchange(t, ev, by, respArray("GET", "done"), "$3\r\nyes\r\n")
					respExchange(t, ev, by, respArray("DEL", "done"), ":1\r\n")
				}
				respExchange(t, ev, by, respArray("EXISTS", "done", "k"), ":0\r\n")
			}
		}
		if store.Len() != 0 {
			t.Errorf("the store holds %d keys, want 0: a partial command was executed", store.Len())
		}
		// Only resets may be logged (as read errors); a FIN mid-command is
		// an ordinary end of input.
		for _, l := range logged {
			if !strings.Contains(l, "reset") {
				t.Errorf("server logged %q", l)
			}
		}
		respExchange(t, ev, by, respArray("QUIT"), "+OK\r\n")
		runUntil(t, ev, "the bystander's QUIT", func() bool { return srv.Conns() == 0 })
	})
}
