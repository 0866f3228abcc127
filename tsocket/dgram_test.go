package tsocket_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

func TestUDPRoundTrip(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		srv, err := tsocket.UDPSocket(ev, loopback4(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, srv)
		cli, err := tsocket.UDPSocket(ev, loopback4(t), srv.LocalAddress())
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, cli)

		rreq := tsocket.RecvFromSend(ev, srv)
		busy := tsocket.RecvFromSend(ev, srv)
		poll(t, busy)
		if _, _, err := tsocket.RecvFromRecv(busy); !errors.Is(err, syscall.EBUSY) {
			t.Errorf("second recvfrom: %v, want EBUSY", err)
		}
		sreq := tsocket.SendToSend(ev, cli, []byte("ping"), nil)
		poll(t, sreq)
		if n, err := tsocket.SendToRecv(sreq); n != 4 || err != nil {
			t.Fatalf("SendToRecv = %d, %v", n, err)
		}
		poll(t, rreq)
		data, from, err := tsocket.RecvFromRecv(rreq)
		if err != nil || string(data) != "ping" {
			t.Fatalf("RecvFromRecv = %q, %v", data, err)
		}
		if from.String() != cli.LocalAddress().String() {
			t.Errorf("source = %s, want %s", from, cli.LocalAddress())
		}
		// Reply to the source address, and a zero-length datagram.
		for _, msg := range []string{"pong", ""} {
			sreq = tsocket.SendToSend(ev, srv, []byte(msg), from)
			rreq = tsocket.RecvFromSend(ev, cli)
			poll(t, sreq)
			poll(t, rreq)
			data, from2, err := tsocket.RecvFromRecv(rreq)
			if err != nil || string(data) != msg || data == nil {
				t.Fatalf("reply = %q (nil %v), %v; want %q", data, data == nil, err, msg)
			}
			if from2.String() != srv.LocalAddress().String() {
				t.Errorf("reply source = %s, want %s", from2, srv.LocalAddress())
			}
		}
		if err := ev.LoopWait(); err != nil {
			t.Fatal(err)
		}
		d := tsocket.DisconnectSend(ev, cli)
		poll(t, d)
		if err := tsocket.DisconnectRecv(d); err != nil {
			t.Fatal(err)
		}
		sreq = tsocket.SendToSend(ev, cli, []byte("x"), nil)
		poll(t, sreq)
		if _, err := tsocket.SendToRecv(sreq); !errors.Is(err, net.ErrClosed) {
			t.Errorf("sendto after disconnect: %v, want net.ErrClosed", err)
		}
	})
}

func TestUnixDgram(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		dir := t.TempDir()
		sa, _ := tsocket.UnixAddress(filepath.Join(dir, "srv"))
		ca, _ := tsocket.UnixAddress(filepath.Join(dir, "cli"))
		srv, err := tsocket.UnixDgramSocket(ev, sa, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, srv)
		cli, err := tsocket.UnixDgramSocket(ev, ca, sa)
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, cli)
		big := make([]byte, 100000) // larger than any UDP datagram
		for i := range big {
			big[i] = byte(i)
		}
		poll(t, tsocket.SendToSend(ev, cli, big, nil))
		rreq := tsocket.RecvFromSend(ev, srv)
		poll(t, rreq)
		data, from, err := tsocket.RecvFromRecv(rreq)
		if err != nil || len(data) != len(big) || data[99999] != big[99999] {
			t.Fatalf("RecvFromRecv: %d bytes, %v", len(data), err)
		}
		if from.String() != ca.String() {
			t.Errorf("from = %s, want %s", from, ca)
		}
		// An unbound sender shows as the unnamed unix address.
		anon, err := tsocket.UnixDgramSocket(ev, nil, sa)
		if err != nil {
			t.Fatal(err)
		}
		defer closeT(t, anon)
		poll(t, tsocket.SendToSend(ev, anon, nil, nil))
		rreq = tsocket.RecvFromSend(ev, srv)
		poll(t, rreq)
		data, from, err = tsocket.RecvFromRecv(rreq)
		if err != nil || len(data) != 0 || from.String() != "unix:" {
			t.Fatalf("from unbound: %q from %v, %v", data, from, err)
		}
	})
}

func TestDgramBadAddresses(t *testing.T) {
	ev, err := tevent.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	ua, _ := tsocket.UnixAddress("/nonexistent/x")
	v6, _ := tsocket.InetAddress("ipv6", "::1", 0)
	if _, err := tsocket.UDPSocket(ev, ua, nil); err == nil {
		t.Error("UDPSocket on a unix address succeeded")
	}
	if _, err := tsocket.UnixDgramSocket(ev, loopback4(t), nil); err == nil {
		t.Error("UnixDgramSocket on an inet address succeeded")
	}
	if _, err := tsocket.UDPSocket(ev, loopback4(t), v6); err == nil {
		t.Error("UDPSocket with mixed families succeeded")
	}
	if _, err := tsocket.UDPSocket(ev, nil, nil); err == nil {
		t.Error("UDPSocket without addresses succeeded")
	}
}

func TestUnixDgramCloseRemovesSocketFile(t *testing.T) {
	backends(t, func(t *testing.T, newCtx func(...tevent.Option) *tevent.Context) {
		ev := newCtx()
		path := filepath.Join(t.TempDir(), "d")
		addr, err := tsocket.UnixAddress(path)
		if err != nil {
			t.Fatal(err)
		}
		d, err := tsocket.UnixDgramSocket(ev, addr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("socket file not created: %v", err)
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("socket file left behind after Close: %v", err)
		}
	})
}
