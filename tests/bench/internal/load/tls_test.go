package load

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tests/bench/internal/servers"
	"github.com/gotevent/gotevent/tests/bench/internal/tlscert"
)

// serveTLS starts net-resp-tls and returns its address and a client
// configuration that trusts it.
func serveTLS(t *testing.T) (string, *tls.Config) {
	t.Helper()
	scfg, ccfg, err := tlscert.Configs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addr, err := servers.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := servers.Start("net-resp-tls", servers.Config{Addr: addr, Mode: servers.RESP, TLS: scfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return addr, ccfg
}

func TestTLSConnect(t *testing.T) {
	addr, ccfg := serveTLS(t)
	run(t, Config{Addr: addr, Mode: Connect, Conns: 4, TLS: ccfg, Req: []byte(PING), RespLen: len(PINGResp)})
}

func TestTLSIdle(t *testing.T) {
	addr, ccfg := serveTLS(t)
	held := false
	res, err := Run(Config{Addr: addr, Mode: Idle, Conns: 50, DialConcurrency: 8, TLS: ccfg,
		Req: []byte(PING), RespLen: len(PINGResp),
		Hold: func(r Result) { held = r.Conns == 50 }})
	if err != nil || !held || res.Conns != 50 {
		t.Fatalf("held %v, result %+v, %v", held, res, err)
	}
}

// A plain server fails the TLS modes at once rather than reporting no
// handshakes.
func TestTLSAgainstPlain(t *testing.T) {
	_, ccfg := serveTLS(t)
	addr := serve(t, servers.RESP)
	for _, mode := range []Mode{Connect, Idle} {
		cfg := Config{Addr: addr, Mode: mode, Conns: 2, DialConcurrency: 2, TLS: ccfg, Req: []byte(PING), RespLen: len(PINGResp),
			Warmup: 50 * time.Millisecond, Duration: 50 * time.Millisecond}
		if _, err := Run(cfg); err == nil {
			t.Errorf("%s: no error from a server that does not speak TLS", mode)
		}
	}
}
