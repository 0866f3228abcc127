package servers

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tests/bench/internal/leaktest"
	"github.com/gotevent/gotevent/tests/bench/internal/tlscert"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, leaktest.Ignores()...) }

func start(t *testing.T, name string, mode Mode, loops int) string {
	t.Helper()
	addr, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(name, Config{Addr: addr, Mode: mode, Loops: loops})
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	})
	return addr
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

var echoServers = []string{"net", "gnet", "nbio", "netpoll", "gotevent", "gotevent-pdu", "gotevent-mask"}

func TestEcho(t *testing.T) {
	for _, name := range echoServers {
		t.Run(name, func(t *testing.T) {
			addr := start(t, name, Echo, 1)
			for range 3 {
				c := dial(t, addr)
				for _, size := range []int{1, 64, 1024, 200 << 10} {
					msg := bytes.Repeat([]byte{byte(size)}, size)
					go c.Write(msg)
					got := make([]byte, size)
					if _, err := io.ReadFull(c, got); err != nil {
						t.Fatalf("size %d: %v", size, err)
					}
					if !bytes.Equal(got, msg) {
						t.Fatalf("size %d: echo differs", size)
					}
				}
			}
		})
	}
}

func TestSink(t *testing.T) {
	for _, name := range echoServers {
		t.Run(name, func(t *testing.T) {
			c := dial(t, start(t, name, Sink, 1))
			const mibs = 3
			go c.Write(make([]byte, mibs*MiB+100))
			got := make([]byte, mibs)
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Two gotevent loops behind SO_REUSEPORT both serve.
func TestMultiLoop(t *testing.T) {
	for _, name := range []string{"gotevent", "gotevent-pdu", "gotevent-mask"} {
		t.Run(name, func(t *testing.T) {
			addr := start(t, name, Echo, 2)
			for range 8 {
				c := dial(t, addr)
				c.Write([]byte("ping"))
				got := make([]byte, 4)
				if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
					t.Fatalf("got %q, %v", got, err)
				}
			}
		})
	}
}

func TestRESP(t *testing.T) {
	respExchange(t, dial(t, start(t, "net-resp", RESP, 1)))
}

// respExchange sends SET, GET and an inline PING at once on c and checks
// the three replies.
func respExchange(t *testing.T, c io.ReadWriter) {
	t.Helper()
	c.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n"))
	want := "+OK\r\n$1\r\nv\r\n+PONG\r\n"
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
}

// net-resp takes values far larger than its read buffer (1 MB, as
// redis-benchmark -d 1000000 sends), pipelined with small commands before
// and after, whole or in pieces; a long command of small arguments too;
// and an inline command longer than its buffer is refused, not waited for.
func TestRESPLargeValues(t *testing.T) {
	addr := start(t, "net-resp", RESP, 1)
	c := dial(t, addr)
	for _, size := range []int{bigArg - 1, bigArg + 1, 100_000, 1_000_000} {
		v := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		set := fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n%s\r\n", size, v)
		want := "+PONG\r\n+OK\r\n$" + strconv.Itoa(size) + "\r\n" + string(v) + "\r\n+PONG\r\n"
		for _, piece := range []int{len(set) + 100, 7000} {
			go func() {
				msg := "PING\r\n" + set + "*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n"
				for off := 0; off < len(msg); off += piece {
					c.Write([]byte(msg[off:min(off+piece, len(msg))]))
				}
			}()
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
				t.Fatalf("size %d in pieces of %d: %.40q... (%v), want %.40q...", size, piece, got, err, want)
			}
		}
	}
	del := fmt.Sprintf("*%d\r\n$3\r\nDEL\r\n", 1001)
	for i := range 1000 {
		del += fmt.Sprintf("$12\r\nkey%09d\r\n", i)
	}
	c.Write([]byte(del))
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != ":0\r\n" {
		t.Fatalf("DEL of 1000 keys: %q, %v", got, err)
	}
	c.Write(bytes.Repeat([]byte("x"), DefaultBuf+1))
	// The server closes with the rest unread, so a reset may follow.
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "-ERR ") {
		t.Fatalf("an inline command longer than the buffer: %q, %v", line, err)
	}
}

// net-resp-tls serves the same commands over TLS, and refuses to start
// without a certificate.
func TestRESPTLS(t *testing.T) {
	if _, err := Start("net-resp-tls", Config{Addr: "127.0.0.1:0", Mode: RESP}); err == nil {
		t.Fatal("net-resp-tls started without Config.TLS")
	}
	scfg, ccfg, err := tlscert.Configs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addr, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start("net-resp-tls", Config{Addr: addr, Mode: RESP, TLS: scfg})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	respExchange(t, tls.Client(dial(t, addr), ccfg))
}

func TestCounter(t *testing.T) {
	var s Counter
	if k := s.Add(MiB - 1); k != 0 {
		t.Fatalf("acks %d", k)
	}
	if k := s.Add(2*MiB + 1); k != 3 {
		t.Fatalf("acks %d", k)
	}
}
