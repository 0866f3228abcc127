package load

import (
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tests/bench/internal/servers"
)

// Against net-resp, which answers all it reads in one write, the slow
// client's GETs are taken in whole, the PINGs are answered and the slow
// connection stays open.
func TestSlow(t *testing.T) {
	addr := serve(t, servers.RESP)
	started := false
	res, err := RunSlow(SlowConfig{Addr: addr, Value: 64 << 10, Gets: 20, Duration: 250 * time.Millisecond, PingEvery: 100 * time.Millisecond,
		Start: func() { started = true }})
	if err != nil {
		t.Fatal(err)
	}
	if !started || res.Pings < 1 || res.Pings > 3 || res.PingMax <= 0 || res.Dropped || res.Written != 20*int64(len("*2\r\n$3\r\nGET\r\n$18\r\nslowconsumer:value\r\n")) {
		t.Fatalf("started %v, result %+v", started, res)
	}
	if res.Elapsed < 250*time.Millisecond {
		t.Fatalf("ended after %v", res.Elapsed)
	}
}

// A server that closes the slow connection once the GETs arrive is seen
// to have dropped it.
func TestSlowDropped(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const value = 1024
	setLen := len(fmt.Sprintf("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(slowKey), slowKey, value)) + value + 2
	done := make(chan struct{})
	defer func() { <-done }()
	go func() {
		defer close(done)
		slow, err := l.Accept()
		if err != nil {
			return
		}
		defer slow.Close()
		pinger, err := l.Accept()
		if err != nil {
			return
		}
		defer pinger.Close()
		if _, err := io.ReadFull(slow, make([]byte, setLen)); err != nil {
			return
		}
		slow.Write([]byte("+OK\r\n"))
		go func() {
			slow.Read(make([]byte, 16)) // the first GETs: close on them
			slow.Close()
		}()
		ping := make([]byte, len(PING))
		for { // until the client closes
			if _, err := io.ReadFull(pinger, ping); err != nil {
				return
			}
			pinger.Write([]byte(PINGResp))
		}
	}()
	res, err := RunSlow(SlowConfig{Addr: l.Addr().String(), Value: value, Gets: 100, Duration: 150 * time.Millisecond, PingEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Dropped || res.Pings < 1 {
		t.Fatalf("result %+v, want the slow connection dropped and a PING", res)
	}
}

func TestSlowConfig(t *testing.T) {
	if _, err := RunSlow(SlowConfig{Addr: "127.0.0.1:1"}); err == nil {
		t.Fatal("an empty configuration ran")
	}
}
