package tests

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"golang.org/x/sys/unix"
)

// Large values (issue 13): a client paused over the soft output limit for
// longer than its soft seconds is disconnected, one that reads is not, and
// the value buffers a loop reuses are never the ones a reply still waits
// to be written from.

// A client whose replies stay over the soft limit for OutputSoftTime,
// because it never reads, is disconnected with a reset; the others go on.
func TestRESPSoftLimitTime(t *testing.T) {
	t.Run("never reads", func(t *testing.T) {
		cfg := resp.DefaultConfig()
		cfg.OutputSoftTime = 100 * time.Millisecond
		rs, c, _ := setValue(t, cfg, 1<<20)
		c.send(strings.Repeat(respCmd("GET", "k"), 64))
		rs.waitLogged(t, "soft output limit")
		n, err := readUntilError(c)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("after %d bytes of replies: %v, want ECONNRESET", n, err)
		}
		t.Logf("64 GETs of 1 MiB, never read, over a 1 MiB soft limit for 100ms: reset after %d bytes of replies", n)
		rs.waitConns(t, 0)
		if got := dialRESP(t, rs.addr).do("EXISTS", "k"); got != ":1" {
			t.Fatalf("EXISTS after the disconnection = %q", got)
		}
	})
	t.Run("reads", func(t *testing.T) {
		// A client that reads drains below the soft limit again and again,
		// each time far sooner than this.
		cfg := resp.DefaultConfig()
		cfg.OutputSoftTime = 5 * time.Second
		rs, c, v := setValue(t, cfg, 1<<20)
		const gets = 200
		go c.conn.Write([]byte(strings.Repeat(respCmd("GET", "k"), gets)))
		for i := range gets {
			if got := c.reply(); got != "$"+v {
				t.Fatalf("GET reply %d: %d bytes, not the value", i, len(got)-1)
			}
		}
		if got := c.do("PING"); got != "+PONG" {
			t.Fatalf("PING after %d GETs = %q", gets, got)
		}
		if l := rs.logged("soft output limit"); len(l) != 0 {
			t.Fatalf("a client that read was disconnected: %q", l)
		}
	})
	t.Run("--output-soft-seconds", func(t *testing.T) {
		addr := startBinary(t, "resp", "--listen", "127.0.0.1:0", "--quiet", "--output-soft-seconds", "1")
		c := dialRESP(t, addr)
		set, _ := bulkCmd(1<<20, "SET", "k")
		c.send(set)
		if got := c.reply(); got != "+OK" {
			t.Fatalf("SET = %q", got)
		}
		c.send(strings.Repeat(respCmd("GET", "k"), 64))
		waitHangup(t, c)
		n, err := readUntilError(c)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("after %d bytes of replies: %v, want ECONNRESET", n, err)
		}
	})
}

// waitHangup waits, without reading, until c's socket reports an error or
// a hang-up (the server's reset), for ioTimeout at most.
func waitHangup(t testing.TB, c *respConn) {
	t.Helper()
	raw, err := c.conn.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var revents int16
	var perr error
	err = raw.Control(func(fd uintptr) {
		// Events 0: only POLLERR and POLLHUP, which poll always reports.
		fds := []unix.PollFd{{Fd: int32(fd)}}
		for {
			_, perr = unix.Poll(fds, int(ioTimeout/time.Millisecond))
			if perr != unix.EINTR {
				break
			}
		}
		revents = fds[0].Revents
	})
	if err == nil {
		err = perr
	}
	if err != nil || revents&(unix.POLLERR|unix.POLLHUP) == 0 {
		t.Fatalf("poll: revents %#x, %v; want the server's reset within %v", revents, err, ioTimeout)
	}
}

// waitLogged waits until the server has logged a line containing s.
func (rs *respServer) waitLogged(t testing.TB, s string) {
	t.Helper()
	if !rs.waitUntil(t, func() bool { return len(rs.logged(s)) > 0 }) {
		t.Fatalf("nothing logged with %q in %v: %q", s, ioTimeout, rs.logs)
	}
}

// genValue is generation gen of key j's value, size bytes that say which
// they are all along, so that a reply made of two values is caught.
func genValue(j, gen, size int) string {
	unit := fmt.Sprintf("k%d-g%03d|", j, gen)
	return strings.Repeat(unit, size/len(unit)+1)[:size]
}

// While a client that does not read has GET replies of large values
// waiting in its Writer, another overwrites those keys again and again:
// the buffers the store lets go of are reused for the new values, but
// never one a waiting reply is written from, nor one another loop holds.
// Every reply the first client reads is one whole value of its key.
func TestRESPReusedBuffersAreNotShared(t *testing.T) {
	const size, keys, gens = 256 << 10, 8, 12
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d loops", loops), func(t *testing.T) {
			_, addr := startRESPLoops(t, loops)
			reader, writer := dialRESP(t, addr), dialRESP(t, addr)
			for j := range keys {
				if got := writer.do("SET", fmt.Sprint("k", j), genValue(j, 0, size)); got != "+OK" {
					t.Fatalf("SET = %q", got)
				}
			}
			// 4 GETs of each key, 8 MiB of replies past a 1 MiB soft
			// limit: most wait, in the Writer or unread.
			var gets strings.Builder
			for range 4 {
				for j := range keys {
					gets.WriteString(respCmd("GET", fmt.Sprint("k", j)))
				}
			}
			reader.send(gets.String())
			if got := writer.do("PING"); got != "+PONG" {
				t.Fatalf("PING = %q", got)
			}
			for gen := 1; gen < gens; gen++ {
				for j := range keys {
					if got := writer.do("SET", fmt.Sprint("k", j), genValue(j, gen, size)); got != "+OK" {
						t.Fatalf("SET = %q", got)
					}
				}
			}
			for i := range 4 * keys {
				j := i % keys
				got := reader.reply()
				ok := false
				for gen := range gens {
					if got == "$"+genValue(j, gen, size) {
						ok = true
						break
					}
				}
				if !ok {
					t.Fatalf("GET k%d (reply %d): %.40q..., not one value of k%d", j, i, got, j)
				}
			}
		})
	}
}

// redis-benchmark's SETs of large values, the shape the demo guesses
// (guess.go), of one size and then another, and GETs of them: the
// values redis-cli reads back are whole and of the size last set.
func TestRedisBenchmarkLargeValues(t *testing.T) {
	cli, bench := redisTools(t)
	addr := startBinary(t, "resp", "--listen", "127.0.0.1:0", "--quiet")
	host, port, _ := net.SplitHostPort(addr)
	n := "2000"
	if testing.Short() {
		n = "400"
	}
	rate := regexp.MustCompile(`(SET|GET): ([0-9.]+) requests per second`)
	for _, size := range []int{100_000, 150_000} {
		out, err := exec.Command(bench, "-h", host, "-p", port, "-c", "4", "-n", n, "-d", fmt.Sprint(size), "-t", "set,get", "-q").CombinedOutput()
		got := rate.FindAllStringSubmatch(string(out), -1)
		if err != nil || len(got) != 2 {
			t.Fatalf("redis-benchmark -d %d: %v\n%s", size, err, out)
		}
		t.Logf("redis-benchmark -c 4 -n %s -d %d: SET %s/s, GET %s/s", n, size, got[0][2], got[1][2])
		v, err := exec.Command(cli, "-h", host, "-p", port, "GET", "key:__rand_int__").Output()
		if err != nil {
			t.Fatalf("redis-cli GET: %v", err)
		}
		if got := len(strings.TrimSuffix(string(v), "\n")); got != size {
			t.Fatalf("after SETs of %d bytes, GET returned %d bytes", size, got)
		}
	}
}
