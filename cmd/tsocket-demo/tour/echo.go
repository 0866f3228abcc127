package tour

import (
	"bytes"
	"fmt"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

func (t *tour) tcpEcho() (string, error) {
	srv, cli, err := t.connected()
	if err != nil {
		return "", err
	}
	defer srv.Close()
	defer cli.Close()
	msg := []byte("hello, tevent")
	// The server: read exactly len(msg) bytes, write them back. Written
	// as callbacks, as a server would be.
	buf := make([]byte, len(msg))
	rd := tsocket.ReadvSend(t.ev, srv, [][]byte{buf})
	rd.SetCallback(func(rd *tevent.Req[int]) {
		if _, err := tsocket.ReadvRecv(rd); err != nil {
			return
		}
		echo := tsocket.WritevSend(t.ev, srv, [][]byte{buf})
		echo.SetCallback(func(echo *tevent.Req[int]) { tsocket.WritevRecv(echo) })
	})
	// The client, written synchronously with Poll.
	if _, err := poll(tsocket.WritevSend(t.ev, cli, [][]byte{msg})); err != nil {
		return "", err
	}
	got := make([]byte, len(msg))
	if _, err := poll(tsocket.ReadvSend(t.ev, cli, [][]byte{got})); err != nil {
		return "", err
	}
	if !bytes.Equal(got, msg) {
		return "", fmt.Errorf("echo returned %q", got)
	}
	return fmt.Sprintf("%v -> %v echoed %q", cli.LocalAddress(), cli.RemoteAddress(), got), nil
}

func (t *tour) udpEcho() (string, error) {
	srv, err := tsocket.UDPSocket(t.ev, loopback(), nil)
	if err != nil {
		return "", err
	}
	defer srv.Close()
	cli, err := tsocket.UDPSocket(t.ev, loopback(), nil)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	in := tsocket.RecvFromSend(t.ev, srv)
	in.SetCallback(func(in *tevent.Req[tsocket.Datagram]) {
		data, from, err := tsocket.RecvFromRecv(in)
		if err != nil {
			return
		}
		out := tsocket.SendToSend(t.ev, srv, bytes.ToUpper(data), from)
		out.SetCallback(func(out *tevent.Req[int]) { tsocket.SendToRecv(out) })
	})
	if _, err := poll(tsocket.SendToSend(t.ev, cli, []byte("ping"), srv.LocalAddress())); err != nil {
		return "", err
	}
	reply, err := poll(tsocket.RecvFromSend(t.ev, cli))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("sent %q to %v, got %q back from %v", "ping", srv.LocalAddress(), reply.Data, reply.From), nil
}
