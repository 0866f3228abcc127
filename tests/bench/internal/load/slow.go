package load

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// SlowConfig describes a slow-consumer run against a RESP server (see
// RunSlow).
type SlowConfig struct {
	Addr string
	// Value is the size in bytes of the value SET first.
	Value int
	// Gets is how many GETs of it the slow client writes at once, never
	// reading a reply.
	Gets int
	// Duration is how long the run lasts from the GETs on.
	Duration time.Duration
	// PingEvery is the interval of the other client's PINGs.
	PingEvery time.Duration
	// Start is called once the value is set, just before the GETs are
	// written, and the run waits for it to return (the harness reads the
	// server's RSS then).
	Start func()
}

// SlowResult is what a slow-consumer run saw.
type SlowResult struct {
	Pings int `json:"pings"` // PINGs sent
	// Late counts the PINGs not answered when the run ended; their
	// latency counts as the time they had waited.
	Late    int           `json:"late"`
	PingMax time.Duration `json:"ping_max_ns"`
	// Written is how many bytes of the GETs the server took in, of Total.
	Written int64 `json:"written"`
	Total   int64 `json:"total"`
	// Dropped says the server had closed the slow connection by the end.
	Dropped bool          `json:"dropped"`
	Elapsed time.Duration `json:"elapsed_ns"`
}

// The key the slow consumer uses.
const slowKey = "slowconsumer:value"

// RunSlow sets a value of cfg.Value bytes, then one connection writes
// cfg.Gets GETs of it at once and never reads, while another sends a PING
// every cfg.PingEvery and times its reply.
func RunSlow(cfg SlowConfig) (SlowResult, error) {
	if cfg.Value <= 0 || cfg.Gets <= 0 || cfg.Duration <= 0 || cfg.PingEvery <= 0 {
		return SlowResult{}, errors.New("load: a slow-consumer run needs Value, Gets, Duration and PingEvery")
	}
	slow, err := net.DialTimeout("tcp4", cfg.Addr, 10*time.Second)
	if err != nil {
		return SlowResult{}, fmt.Errorf("load: %w", err)
	}
	defer slow.Close()
	pinger, err := net.DialTimeout("tcp4", cfg.Addr, 10*time.Second)
	if err != nil {
		return SlowResult{}, fmt.Errorf("load: %w", err)
	}
	defer pinger.Close()
	set := fmt.Appendf(nil, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", len(slowKey), slowKey, cfg.Value)
	set = append(set, strings.Repeat("v", cfg.Value)...)
	set = append(set, "\r\n"...)
	if err := exchange(slow, set, "+OK\r\n", 30*time.Second); err != nil {
		return SlowResult{}, fmt.Errorf("load: SET of %d bytes: %w", cfg.Value, err)
	}
	if err := exchange(pinger, []byte(PING), PINGResp, 10*time.Second); err != nil {
		return SlowResult{}, fmt.Errorf("load: PING: %w", err)
	}
	get := fmt.Appendf(nil, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(slowKey), slowKey)
	gets := []byte(strings.Repeat(string(get), cfg.Gets))
	if cfg.Start != nil {
		cfg.Start()
	}
	t0 := time.Now()
	end := t0.Add(cfg.Duration)
	res := SlowResult{Total: int64(len(gets))}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		slow.SetWriteDeadline(end)
		n, _ := slow.Write(gets) // a server that stops reading leaves it short
		res.Written = int64(n)
	}()
	r := bufio.NewReader(pinger)
	pong := make([]byte, len(PINGResp))
	for next := t0; next.Before(end); next = next.Add(cfg.PingEvery) {
		time.Sleep(time.Until(next))
		sent := time.Now()
		if !sent.Before(end) { // overslept past the end
			break
		}
		pinger.SetDeadline(end)
		res.Pings++
		_, err := pinger.Write([]byte(PING))
		if err == nil {
			_, err = io.ReadFull(r, pong)
		}
		lat := time.Since(sent)
		res.PingMax = max(res.PingMax, lat)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				res.Late++
				break
			}
			return res, fmt.Errorf("load: PING: %w", err)
		}
		if string(pong) != PINGResp {
			return res, fmt.Errorf("load: PING answered %q", pong)
		}
	}
	time.Sleep(time.Until(end))
	res.Elapsed = time.Since(t0)
	wg.Wait()
	res.Dropped = !established(slow)
	return res, nil
}

// exchange writes req on c and reads exactly the reply want within d.
func exchange(c net.Conn, req []byte, want string, d time.Duration) error {
	c.SetDeadline(time.Now().Add(d))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(req); err != nil {
		return err
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if string(got) != want {
		return fmt.Errorf("reply %q, want %q", got, want)
	}
	return nil
}

// established reports whether c's TCP state is still ESTABLISHED: a
// server that closed the connection has moved it to CLOSE_WAIT (FIN) or
// CLOSE (RST), which the client sees without reading.
func established(c net.Conn) bool {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return true
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	state := -1
	rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			state = int(info.State)
		}
	})
	// x/sys names the kernel's TCP states only as BPF_TCP_*, the same
	// values as tcpi_state.
	return state == unix.BPF_TCP_ESTABLISHED
}
