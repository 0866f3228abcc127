package load

import (
	"bytes"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tests/bench/internal/leaktest"
	"github.com/gotevent/gotevent/tests/bench/internal/servers"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, leaktest.Ignores()...) }

func serve(t *testing.T, mode servers.Mode) string {
	t.Helper()
	addr, err := servers.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	name := "gotevent-mask"
	if mode == servers.RESP {
		name = "net-resp"
	}
	srv, err := servers.Start(name, servers.Config{Addr: addr, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return addr
}

func run(t *testing.T, cfg Config) Result {
	t.Helper()
	cfg.Warmup, cfg.Duration = 20*time.Millisecond, 100*time.Millisecond
	started := false
	cfg.Start = func() { started = true }
	var stopped *Result
	cfg.Stop = func(r Result) { stopped = &r }
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !started || stopped == nil || *stopped != res {
		t.Fatalf("start %v, stop %v, result %+v", started, stopped, res)
	}
	if res.Msgs == 0 || res.Elapsed < cfg.Duration || res.Errors != 0 {
		t.Fatalf("result %+v", res)
	}
	return res
}

func TestPingPong(t *testing.T) {
	addr := serve(t, servers.Echo)
	for _, tc := range []struct{ conns, depth int }{{1, 1}, {50, 1}, {20, 16}} {
		req := bytes.Repeat([]byte("x"), 64*tc.depth)
		res := run(t, Config{Addr: addr, Mode: PingPong, Conns: tc.conns, Req: req, RespLen: len(req), Msgs: tc.depth})
		if res.Msgs%int64(tc.depth) != 0 || res.Conns != tc.conns {
			t.Fatalf("%+v: result %+v", tc, res)
		}
	}
}

func TestRESPBatch(t *testing.T) {
	req, respLen, msgs := RESPBatch(4)
	if msgs != 4 {
		t.Fatalf("msgs %d", msgs)
	}
	run(t, Config{Addr: serve(t, servers.RESP), Mode: PingPong, Conns: 3, Req: req, RespLen: respLen, Msgs: msgs})
}

func TestBulk(t *testing.T) {
	res := run(t, Config{Addr: serve(t, servers.Sink), Mode: Bulk, Conns: 1})
	// Acknowledgements in the window may be for bytes written before it,
	// so only check that both directions moved.
	if res.Bytes == 0 {
		t.Fatalf("acknowledged %d MiB, wrote nothing", res.Msgs)
	}
}

func TestConnect(t *testing.T) {
	run(t, Config{Addr: serve(t, servers.Echo), Mode: Connect, Conns: 4})
}

func TestIdle(t *testing.T) {
	held := false
	res, err := Run(Config{Addr: serve(t, servers.Echo), Mode: Idle, Conns: 300, DialConcurrency: 32,
		Req: make([]byte, 64), RespLen: 64, Msgs: 1,
		Hold: func(r Result) { held = r.Conns == 300 && r.Msgs == 300 }})
	if err != nil || !held || res.Conns != 300 {
		t.Fatalf("held %v, result %+v, %v", held, res, err)
	}
}

func TestBadAddress(t *testing.T) {
	if _, err := Run(Config{Addr: "[::1]:1", Mode: PingPong}); err == nil {
		t.Fatal("IPv6 address accepted")
	}
	if _, err := Run(Config{Addr: "127.0.0.1:1", Mode: "nope"}); err == nil {
		t.Fatal("unknown mode accepted")
	}
}
