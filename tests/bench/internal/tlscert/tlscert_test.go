package tlscert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"io"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A client with ClientConfig completes a full TLS 1.3 handshake with a
// server on ServerConfig, and the server's key is ECDSA P-256.
func TestHandshake(t *testing.T) {
	scfg, ccfg, err := Configs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := scfg.Certificates[0].PrivateKey.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("key %T, want ECDSA P-256", scfg.Certificates[0].PrivateKey)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(c, c)
		done <- err
	}()
	c, err := tls.Dial("tcp", l.Addr().String(), ccfg)
	if err != nil {
		t.Fatal(err)
	}
	st := c.ConnectionState()
	if st.Version != tls.VersionTLS13 || st.DidResume {
		t.Errorf("version %x, resumed %v: want a full TLS 1.3 handshake", st.Version, st.DidResume)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q, %v", buf, err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
