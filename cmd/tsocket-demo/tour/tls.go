package tour

import (
	"bytes"
	"crypto/tls"
	"fmt"

	"github.com/gotevent/gotevent/internal/selfsigned"
	"github.com/gotevent/gotevent/tsocket"
)

// tlsEcho upgrades a TCP pair to TLS, server and client on the one loop,
// and sends a message each way: the handshakes run on the pool while the
// loop does their I/O, then every stream request works on the TLS streams
// as on plain ones.
func (t *tour) tlsEcho() (string, error) {
	cert, err := selfsigned.New()
	if err != nil {
		return "", err
	}
	srv, cli, err := t.connected()
	if err != nil {
		return "", err
	}
	shs := tsocket.TLSServerSend(t.ev, srv, cert.Server())
	chs := tsocket.TLSClientSend(t.ev, cli, cert.Client())
	tcli, err := poll(chs)
	if err != nil {
		srv.Close()
		cli.Close()
		return "", err
	}
	defer tcli.Close()
	tsrv, err := poll(shs)
	if err != nil {
		srv.Close()
		return "", err
	}
	defer tsrv.Close()
	msg := []byte("hello over TLS")
	if _, err := poll(tsocket.WritevSend(t.ev, tcli, [][]byte{msg})); err != nil {
		return "", err
	}
	got := make([]byte, len(msg))
	if _, err := poll(tsocket.ReadvSend(t.ev, tsrv, [][]byte{got})); err != nil {
		return "", err
	}
	if !bytes.Equal(got, msg) {
		return "", fmt.Errorf("server read %q, want %q", got, msg)
	}
	st, _ := tsrv.TLSConnectionState()
	return fmt.Sprintf("handshake done, %s with %s; %q arrived intact",
		tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite), got), nil
}
