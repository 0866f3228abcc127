package tests

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
)

// Hostile clients against the demo's RESP server (issue 13): one that asks
// for far more replies than it reads, one that shuts down its side and
// reads later, one past the hard output limit, one announcing a value past
// --max-bulk.

func heapInuse() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// A client that SETs a 1 MiB value and then pipelines 3000 GETs of it
// (21 KB of input, 3 GB of replies) without reading is paused, not
// buffered: the server's heap grows by at most 96 MiB, another client's
// PING is answered within a second throughout, and the flooding client is
// still served, in order, once it reads.
func TestRESPGetFloodIsPaused(t *testing.T) {
	const value, gets = 1 << 20, 3000
	watch := 2 * time.Second
	if testing.Short() {
		watch = 500 * time.Millisecond
	}
	rs, flood, v := setValue(t, resp.DefaultConfig(), value)
	runtime.GC()
	base := heapInuse()
	flood.send(strings.Repeat("GET k\r\n", gets))

	ping := dialRESP(t, rs.addr)
	var worst time.Duration
	peak, pings := base, 0
	tick := time.NewTicker(10 * time.Millisecond) // pacing the PINGs, not waiting for anything
	defer tick.Stop()
	for end := time.Now().Add(watch); time.Now().Before(end); <-tick.C {
		start := time.Now()
		ping.conn.SetReadDeadline(start.Add(time.Second))
		ping.send("PING\r\n")
		line, err := ping.r.ReadString('\n')
		if err != nil || line != "+PONG\r\n" {
			t.Fatalf("PING %d during the flood: %q, %v (want +PONG within 1s)", pings, line, err)
		}
		worst = max(worst, time.Since(start))
		peak = max(peak, heapInuse())
		pings++
	}
	growth := int64(peak) - int64(base)
	t.Logf("%d GETs of a %d-byte value unread: heap in use grew by %.1f MiB at most; %d PINGs, the slowest answered in %v",
		gets, value, float64(growth)/(1<<20), pings, worst)
	if growth > 96<<20 {
		t.Errorf("heap in use grew by %d bytes, want at most 96 MiB", growth)
	}
	if n := rs.conns(t); n != 2 {
		t.Fatalf("the server holds %d connections, want 2: the flooding client was dropped, not paused", n)
	}
	read := 20
	if testing.Short() {
		read = 3
	}
	for i := range read {
		if got := flood.reply(); got != "$"+v {
			t.Fatalf("GET reply %d: %d bytes, not the value", i, len(got)-1)
		}
	}
}

// A client that pipelines a million commands, shuts down its side and
// only then reads gets every reply, in order: the server delivers what it
// holds after reading EOF. The commands are INCR n and GET v by turns,
// whose replies (40 MB) are five times the requests: with room for them
// all (--output-soft 256mb) the client writes everything before it reads;
// with the default limits the server pauses it, and the client starts
// reading 300 ms later, its writes held up by then.
func TestRESPHalfClosedClientGetsEveryReply(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	value := patterned(64)
	for _, tc := range []struct {
		name   string
		flags  []string
		before time.Duration // how long the client may write before it reads
	}{
		{"server holds the replies", []string{"--output-soft", "256mb", "--output-hard", "512mb"}, ioTimeout},
		{"default limits", nil, 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := startBinary(t, append([]string{"resp", "--listen", "127.0.0.1:0", "--quiet"}, tc.flags...)...)
			c := dialRESP(t, addr)
			if got := c.do("SET", "v", value); got != "+OK" {
				t.Fatalf("SET = %q", got)
			}
			c.conn.SetDeadline(time.Now().Add(3 * ioTimeout))
			wrote := make(chan error, 1)
			go func() {
				w := bufio.NewWriterSize(c.conn, 64<<10)
				for range n / 2 {
					w.WriteString("INCR n\r\nGET v\r\n")
				}
				err := w.Flush()
				if err == nil {
					err = c.conn.(*net.TCPConn).CloseWrite()
				}
				wrote <- err
			}()
			finished := false
			select {
			case err := <-wrote:
				if err != nil {
					t.Fatalf("write: %v", err)
				}
				finished = true
			case <-time.After(tc.before): // reads later: the writes may be held up by now
			}
			start := time.Now()
			get := "$64\r\n" + value + "\r\n"
			var want []byte
			for i := 1; i <= n/2; i++ {
				want = strconv.AppendInt(append(want[:0], ':'), int64(i), 10)
				want = append(want, "\r\n"...)
				want = append(want, get...)
				got := make([]byte, len(want))
				if _, err := io.ReadFull(c.r, got); err != nil || string(got) != string(want) {
					t.Fatalf("replies to command pair %d of %d: %q, %v; want %q", i, n/2, got, err, want)
				}
			}
			if b, err := c.r.ReadByte(); err != io.EOF {
				t.Fatalf("after the last reply: %q, %v; want EOF", b, err)
			}
			if !finished {
				if err := <-wrote; err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			t.Logf("%d commands, then shutdown(SHUT_WR): 100%% of the replies, in order, read in %v (the writes had finished before reading: %v)",
				n, time.Since(start).Round(time.Millisecond), finished)
		})
	}
}

// readUntilError reads c until an error, and returns how many bytes came
// first.
func readUntilError(c *respConn) (int64, error) {
	c.conn.SetReadDeadline(time.Now().Add(ioTimeout))
	return io.Copy(io.Discard, c.r)
}

// A client whose replies would pass the hard limit is disconnected with a
// reset, so that it learns at once; other clients go on.
func TestRESPHardLimitDisconnects(t *testing.T) {
	t.Run("pipelined GETs, no soft limit", func(t *testing.T) {
		cfg := resp.DefaultConfig()
		cfg.OutputSoft, cfg.OutputHard = 0, 4<<20
		rs, c, _ := setValue(t, cfg, 1<<20)
		c.send(strings.Repeat(respCmd("GET", "k"), 64))
		n, err := readUntilError(c)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("after %d bytes of replies: %v, want ECONNRESET", n, err)
		}
		if n >= 64<<20 {
			t.Fatalf("read %d bytes of replies: all of them", n)
		}
		t.Logf("64 GETs of 1 MiB past a 4 MiB hard limit: reset after %d bytes of replies", n)
		if len(rs.logged("hard output limit")) != 1 {
			t.Errorf("log: %q", rs.logs)
		}
		rs.waitConns(t, 0)
		if got := dialRESP(t, rs.addr).do("EXISTS", "k"); got != ":1" {
			t.Fatalf("EXISTS after the disconnection = %q", got)
		}
	})
	t.Run("one reply past the hard limit", func(t *testing.T) {
		cfg := resp.DefaultConfig()
		cfg.OutputHard = 2 << 20
		rs, c, _ := setValue(t, cfg, 3<<20)
		start := time.Now()
		c.send(respCmd("GET", "k"))
		n, err := readUntilError(c)
		if !errors.Is(err, syscall.ECONNRESET) || n != 0 {
			t.Fatalf("GET of a 3 MiB value past a 2 MiB hard limit: %d bytes, then %v; want a reset at once", n, err)
		}
		t.Logf("GET of 3 MiB past a 2 MiB hard limit: reset %v after the request", time.Since(start).Round(time.Microsecond))
		rs.waitConns(t, 0)
	})
}

// A bulk string longer than --max-bulk is a protocol error, answered with
// Redis's message before any of it is read; the connection closes after
// the reply. One of exactly --max-bulk bytes is taken.
func TestRESPMaxBulk(t *testing.T) {
	cfg := resp.DefaultConfig()
	cfg.MaxBulk = 1 << 20
	small, c, v := setValue(t, cfg, 1<<20) // exactly --max-bulk
	if got := c.do("GET", "k"); got != "$"+v {
		t.Fatalf("GET: %d bytes, not the value", len(got)-1)
	}
	def := startRESPWith(t, resp.DefaultConfig())
	for _, tc := range []struct {
		rs  *respServer
		len int64
	}{{small, 1<<20 + 1}, {def, resp.MaxBulkLen + 1}} {
		c := dialRESP(t, tc.rs.addr)
		c.send(fmt.Sprintf("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$%d\r\n", tc.len))
		if got := c.reply(); got != "-ERR Protocol error: invalid bulk length" {
			t.Fatalf("$%d: %q", tc.len, got)
		}
		if n, err := readUntilError(c); n != 0 || err != nil {
			t.Fatalf("$%d: after the error, %d bytes and %v; want EOF", tc.len, n, err)
		}
	}
}

// Values of every size around the thresholds where the server stops
// waiting for a command whole come back intact, sent whole or in pieces,
// alone or pipelined, as keys and as values; a long command of many small
// arguments works too.
func TestRESPLargeValues(t *testing.T) {
	rs := startRESPWith(t, resp.DefaultConfig())
	c := dialRESP(t, rs.addr)
	sizes := []int{16<<10 - 1, 16 << 10, 16<<10 + 1, 64<<10 + 3, 300 << 10, 5 << 20}
	for _, size := range sizes {
		set, v := bulkCmd(size, "SET", "k"+strconv.Itoa(size))
		// In one write with the commands after it, then in pieces.
		c.send(set + respCmd("GET", "k"+strconv.Itoa(size)) + "PING\r\n")
		for _, want := range []string{"+OK", "$" + v, "+PONG"} {
			if got := c.reply(); got != want {
				t.Fatalf("size %d: %.30q... (%d bytes), want %.30q... (%d bytes)", size, got, len(got), want, len(want))
			}
		}
		for off := 0; off < len(set); off += 7000 {
			c.send(set[off:min(off+7000, len(set))])
		}
		if got := c.reply(); got != "+OK" {
			t.Fatalf("size %d in pieces: %q", size, got)
		}
	}
	key := patterned(20 << 10)
	set, v := bulkCmd(1<<20, "SET", key)
	c.send(set)
	if got := c.reply(); got != "+OK" {
		t.Fatalf("SET of a 20 KiB key: %q", got)
	}
	if got := c.do("GET", key); got != "$"+v {
		t.Fatalf("GET of a 20 KiB key: %d bytes, not the value", len(got)-1)
	}
	// 1000 keys of 200 bytes: a 210 KB command, taken apart.
	keys := []string{"DEL"}
	for i := range 1000 {
		keys = append(keys, fmt.Sprintf("%0199d", i))
	}
	keys = append(keys, key, "k300")
	if got := c.do(keys...); got != ":1" {
		t.Fatalf("DEL of 1002 keys = %q", got)
	}
	if got := c.do("EXISTS", key, "k"+strconv.Itoa(300<<10)); got != ":1" {
		t.Fatalf("EXISTS = %q", got)
	}
}

// A client that goes away in the middle of a large value leaves nothing
// behind: the command is not run, and the connection is dropped.
func TestRESPClientVanishesMidValue(t *testing.T) {
	rs := startRESPWith(t, resp.DefaultConfig())
	for _, reset := range []bool{false, true} {
		c := dialRESP(t, rs.addr)
		set, _ := bulkCmd(1<<20, "SET", "half")
		c.send(set[:len(set)/2])
		rs.waitConns(t, 1)
		if reset {
			c.conn.(*net.TCPConn).SetLinger(0)
		}
		c.conn.Close()
	}
	rs.waitConns(t, 0)
	if got := dialRESP(t, rs.addr).do("EXISTS", "half"); got != ":0" {
		t.Fatalf("EXISTS half = %q: the partial command ran", got)
	}
}
