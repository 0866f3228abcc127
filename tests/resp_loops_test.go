package tests

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"github.com/gotevent/gotevent/tevent"
)

// With several loops the RESP server serves one key space (issue 15):
// whichever loop a client lands on, it sees every other client's writes.

// startRESPLoops starts the RESP server on n loops sharing a port and a
// key space, and returns it with its address for net.Dial.
func startRESPLoops(t testing.TB, n int) (*resp.Loops, string) {
	t.Helper()
	g, err := tevent.NewGroup(n)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := resp.StartLoops(g, loopbackAny(t), resp.DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ls.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ls, tcpAddr(ls.Addr)
}

// respModel is what a key space must hold, and the reply each command
// must get, rendered as readReply renders replies.
type respModel map[string]string

func (m respModel) apply(args []string) string {
	switch args[0] {
	case "SET":
		m[args[1]] = args[2]
		return "+OK"
	case "GET":
		if v, ok := m[args[1]]; ok {
			return "$" + v
		}
		return "$nil"
	case "INCR":
		n := int64(0)
		if v, ok := m[args[1]]; ok {
			var err error
			if n, err = strconv.ParseInt(v, 10, 64); err != nil {
				return "-ERR value is not an integer or out of range"
			}
		}
		n++
		m[args[1]] = strconv.FormatInt(n, 10)
		return ":" + m[args[1]]
	case "DEL", "EXISTS":
		n := 0
		for _, k := range args[1:] {
			if _, ok := m[k]; ok {
				n++
				if args[0] == "DEL" {
					delete(m, k)
				}
			}
		}
		return ":" + strconv.Itoa(n)
	}
	return "-ERR unknown command '" + args[0] + "'"
}

// randomCommand picks a command on the keys prefix0..prefix(keys-1), now
// and then with a value large enough to be read into its own buffer.
func randomCommand(rng *rand.Rand, prefix string, keys int) []string {
	key := func() string { return prefix + strconv.Itoa(rng.IntN(keys)) }
	switch r := rng.IntN(100); {
	case r < 30:
		v := strconv.Itoa(rng.IntN(1000))
		if rng.IntN(40) == 0 {
			v = patterned(20<<10 + rng.IntN(1000))
		} else if rng.IntN(3) == 0 {
			v = "v" + v
		}
		return []string{"SET", key(), v}
	case r < 60:
		return []string{"GET", key()}
	case r < 75:
		return []string{"INCR", key()}
	case r < 88:
		args := []string{"EXISTS"}
		for range 1 + rng.IntN(6) {
			args = append(args, key())
		}
		return args
	default:
		args := []string{"DEL"}
		for range 1 + rng.IntN(4) {
			args = append(args, key())
		}
		return args
	}
}

// 50 connections spread over the two loops of a two-loop server run
// random commands on random keys, one pipeline at a time, and every reply
// is checked against one map: a SET on any connection is seen by a GET on
// every other. Then all 50 run at once, each on keys of its own, so that
// calls cross between the loops in both directions at the same time.
func TestRESPLoopsShareOneKeySpace(t *testing.T) {
	const clients, keys = 50, 64
	rounds, concurrent := 3000, 200
	if testing.Short() {
		rounds, concurrent = 600, 40
	}
	ls, addr := startRESPLoops(t, 2)
	cs := make([]*respConn, clients)
	for i := range cs {
		cs[i] = dialRESP(t, addr)
		if got := cs[i].do("PING"); got != "+PONG" {
			t.Fatalf("PING = %q", got)
		}
	}
	per, err := ls.Conns()
	if err != nil {
		t.Fatal(err)
	}
	if per[0] == 0 || per[1] == 0 {
		t.Fatalf("connections per loop %v: the kernel put all on one loop", per)
	}
	t.Logf("connections per loop: %v", per)

	rng := rand.New(rand.NewPCG(1, 2))
	model := respModel{}
	commands := 0
	for round := range rounds {
		c := cs[rng.IntN(clients)]
		var batch strings.Builder
		var want []string
		for range 1 + rng.IntN(8) {
			args := randomCommand(rng, "k", keys)
			batch.WriteString(respCmd(args...))
			want = append(want, model.apply(args))
		}
		c.send(batch.String())
		for i, w := range want {
			if got := c.reply(); got != w {
				t.Fatalf("round %d, command %d: %.60q, want %.60q", round, i, got, w)
			}
		}
		commands += len(want)
	}

	// All at once, each client on its own keys.
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	models := make([]respModel, clients)
	for i, c := range cs {
		models[i] = respModel{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- runOwnKeys(c, rand.New(rand.NewPCG(uint64(i), 7)), fmt.Sprintf("c%d:", i), models[i], concurrent)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Every client's keys, read from another client, on whichever loop.
	for i, m := range models {
		c := cs[(i+1)%clients]
		for k := range keys {
			key := fmt.Sprintf("c%d:%d", i, k)
			if got, want := c.do("GET", key), m.apply([]string{"GET", key}); got != want {
				t.Fatalf("GET %s from another client: %.60q, want %.60q", key, got, want)
			}
		}
	}
	t.Logf("%d commands checked one pipeline at a time, then %d pipelines by each of %d clients at once", commands, concurrent, clients)
}

// runOwnKeys runs n pipelines of random commands on c, on keys starting
// with prefix that no other client touches, and checks them against m.
// It runs on a goroutine of its own, so it returns what went wrong.
func runOwnKeys(c *respConn, rng *rand.Rand, prefix string, m respModel, n int) (err error) {
	defer func() {
		// readReply fails through c.t, which must not be called from
		// here: it is given a recorder instead.
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: %v", prefix, r)
		}
	}()
	rec := &panicTB{TB: c.t}
	own := &respConn{t: rec, conn: c.conn, r: c.r}
	for round := range n {
		var batch strings.Builder
		var want []string
		for range 1 + rng.IntN(16) {
			args := randomCommand(rng, prefix, 64)
			batch.WriteString(respCmd(args...))
			want = append(want, m.apply(args))
		}
		own.send(batch.String())
		for i, w := range want {
			if got := own.reply(); got != w {
				return fmt.Errorf("%s round %d, command %d: %.60q, want %.60q", prefix, round, i, got, w)
			}
		}
	}
	return nil
}

// panicTB turns the fatal calls of helpers running on a goroutine other
// than the test's into panics, which that goroutine recovers and reports.
type panicTB struct{ testing.TB }

func (p *panicTB) Helper()                           {}
func (p *panicTB) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (p *panicTB) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// A GET flood on another loop's key is paused at the soft limit as one on
// the connection's own loop is: the run of GETs carried to the owner stops
// where the replies would pass the soft limit, instead of bringing back
// 64 MiB at once and passing the hard one. Twelve connections, each on
// its own key, make it certain that some flood crosses between the loops.
func TestRESPLoopsGetFloodIsPaused(t *testing.T) {
	const conns, gets = 12, 300
	ls, addr := startRESPLoops(t, 2)
	value := patterned(1 << 20)
	var cs []*respConn
	for i := range conns {
		c := dialRESP(t, addr)
		key := fmt.Sprint("flood", i)
		if got := c.do("SET", key, value); got != "+OK" {
			t.Fatalf("SET = %q", got)
		}
		c.send(strings.Repeat("GET "+key+"\r\n", gets))
		cs = append(cs, c)
	}
	// Each flood is under way once a PING on a fresh connection is
	// answered after it; then none may have been dropped.
	if got := dialRESP(t, addr).do("PING"); got != "+PONG" {
		t.Fatalf("PING during the floods = %q", got)
	}
	per, err := ls.Conns()
	if err != nil {
		t.Fatal(err)
	}
	if per[0]+per[1] != conns+1 {
		t.Fatalf("connections per loop %v: a flooding client was dropped", per)
	}
	for i, c := range cs {
		for j := range 3 {
			if got := c.reply(); got != "$"+value {
				t.Fatalf("client %d, GET %d: %d bytes, not the value", i, j, len(got)-1)
			}
		}
	}
}
