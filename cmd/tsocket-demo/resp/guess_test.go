package resp_test

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
	"github.com/gotevent/gotevent/tevent"
)

// client is a RESP client on a plain connection.
type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialClient(t *testing.T, addr string) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// command encodes a command as a multibulk array.
func command(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatal(err)
	}
}

// reply reads one reply: a status or error line as it is, a bulk string
// as "$" and its bytes.
func (c *client) reply() string {
	c.t.Helper()
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reading a reply: %v", err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	if !strings.HasPrefix(line, "$") || line == "$-1" {
		return line
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil {
		c.t.Fatalf("bulk header %q", line)
	}
	b := make([]byte, n+2)
	if _, err := io.ReadFull(c.r, b); err != nil {
		c.t.Fatalf("reading a %d-byte bulk reply: %v", n, err)
	}
	return "$" + string(b[:n])
}

// expect sends cmd and checks its reply.
func (c *client) expect(cmd, want string) {
	c.t.Helper()
	c.send(cmd)
	if got := c.reply(); got != want {
		c.t.Fatalf("reply %.40q, want %.40q", got, want)
	}
}

// value is a value of size bytes that says which it is all along.
func value(name string, size int) string {
	unit := name + "|"
	return strings.Repeat(unit, size/len(unit)+1)[:size]
}

// guesses asks srv's loop for its guess counts.
func guesses(t *testing.T, srv *resp.Server, ev *tevent.Context) [3]int {
	t.Helper()
	got := make(chan [3]int, 1)
	if err := ev.Post(func() { got <- resp.Guesses(srv) }); err != nil {
		t.Fatal(err)
	}
	return <-got
}

// After a SET of a large value, the next SET of the same shape is read
// as guessed, in one read into the value's own buffer; one of another
// shape, a GET between them, pipelined commands, a value that comes in
// pieces and a connection that ends part-way are all read as before.
// Every value stored is the one sent.
func TestGuessedValues(t *testing.T) {
	const size = 100_000
	srv, ev, addr := serveRESP(t, resp.DefaultConfig())
	check := func(want [3]int) {
		t.Helper()
		if got := guesses(t, srv, ev); got != want {
			t.Fatalf("guesses (right, wrong, short) = %v, want %v", got, want)
		}
	}
	c := dialClient(t, addr)
	get := func(key, want string) {
		t.Helper()
		c.expect(command("GET", key), "$"+want)
	}

	c.expect(command("SET", "k1", value("a", size)), "+OK")
	check([3]int{0, 0, 0}) // learnt, not guessed
	c.expect(command("SET", "k2", value("b", size)), "+OK")
	check([3]int{1, 0, 0})

	// A GET is shorter than the header guessed: parsed as usual.
	get("k1", value("a", size))
	get("k2", value("b", size))
	check([3]int{1, 0, 2})
	c.expect(command("SET", "k3", value("c", size)), "+OK")
	check([3]int{2, 0, 2})

	// Two SETs and a GET in one write: the first is guessed, what
	// follows its value is parsed from the read buffer.
	c.send(command("SET", "k1", value("d", size)) + command("SET", "k2", value("e", size)) + command("GET", "k1"))
	for _, want := range []string{"+OK", "+OK", "$" + value("d", size)} {
		if got := c.reply(); got != want {
			t.Fatalf("pipelined reply %.40q, want %.40q", got, want)
		}
	}
	get("k2", value("e", size))
	right := guesses(t, srv, ev)[0]
	if right < 3 {
		t.Fatalf("the pipelined SET was not guessed: %d right", right)
	}

	// A value that comes in pieces: the guessed read takes the header
	// and the first piece, the rest is read into place.
	c.expect(command("SET", "k3", value("f", size)), "+OK") // the guess again, after the GETs
	full := command("SET", "k3", value("g", size))
	before := guesses(t, srv, ev)
	for off := 0; off < len(full); off += 7000 {
		c.send(full[off:min(off+7000, len(full))])
		time.Sleep(time.Millisecond)
	}
	if got := c.reply(); got != "+OK" {
		t.Fatalf("SET in pieces = %q", got)
	}
	if after := guesses(t, srv, ev); after[0]+after[1]+after[2] == before[0]+before[1]+before[2] {
		t.Fatal("the SET in pieces was not read as guessed")
	}
	get("k3", value("g", size))

	// Another header length (a longer key) is a wrong guess, stored right
	// all the same; the next GuessRest such SETs are not guessed, then it
	// is learnt again.
	c.expect(command("SET", "k3", value("h", size)), "+OK")
	before = guesses(t, srv, ev)
	c.expect(command("SET", "key4", value("i", size)), "+OK")
	if got := guesses(t, srv, ev); got[1] != before[1]+1 {
		t.Fatalf("a longer key: guesses %v after %v, want one more wrong", got, before)
	}
	get("key4", value("i", size))
	for i := range resp.GuessRest {
		c.expect(command("SET", "key4", value(fmt.Sprint("j", i), size)), "+OK")
	}
	before = guesses(t, srv, ev)
	c.expect(command("SET", "key4", value("k", size)), "+OK") // learnt
	c.expect(command("SET", "key5", value("l", size)), "+OK") // guessed
	if got := guesses(t, srv, ev); got != [3]int{before[0] + 1, before[1], before[2]} {
		t.Fatalf("after the rest: guesses %v after %v, want one more right", got, before)
	}
	get("key4", value("k", size))
	get("key5", value("l", size))

	// Wrong guesses in a row double the rest. First SETs of one shape
	// until one is guessed right, which clears the count.
	for i := 0; ; i++ {
		before = guesses(t, srv, ev)
		c.expect(command("SET", "k1", value(fmt.Sprint("m", i), size)), "+OK")
		if guesses(t, srv, ev)[0] > before[0] {
			break
		}
		if i > 2*resp.GuessRest {
			t.Fatalf("no SET of one shape guessed right after %d: guesses %v", i, before)
		}
	}
	setN := func(key, name string, n int) {
		t.Helper()
		for i := range n {
			c.expect(command("SET", key, value(fmt.Sprint(name, i), size)), "+OK")
		}
	}
	before = guesses(t, srv, ev)
	setN("key6", "n", 1)              // wrong: a rest of GuessRest
	setN("key6", "o", resp.GuessRest) // not guessed
	setN("key6", "p", 1)              // learnt
	setN("k1", "q", 1)                // wrong again: a rest of 2*GuessRest
	setN("k1", "r", 2*resp.GuessRest) // not guessed
	if got := guesses(t, srv, ev); got != [3]int{before[0], before[1] + 2, before[2]} {
		t.Fatalf("two wrong guesses in a row: guesses %v after %v, want two more wrong and no other", got, before)
	}
	setN("k1", "s", 1) // learnt
	setN("k2", "t", 1) // right
	if got := guesses(t, srv, ev); got[0] != before[0]+1 {
		t.Fatalf("after the doubled rest: guesses %v after %v, want one more right", got, before)
	}
	get("k1", value("s0", size))
	get("k2", value("t0", size))

	// GuessRest reads in a row short of the header drop the guess.
	for range resp.GuessRest + 4 {
		c.expect(command("PING"), "+PONG")
	}
	before = guesses(t, srv, ev)
	c.expect(command("PING"), "+PONG")
	if got := guesses(t, srv, ev); got != before {
		t.Fatalf("after %d PINGs the reads are still guessed: %v after %v", resp.GuessRest+4, got, before)
	}
}

// A guessed value not followed by CRLF is a protocol error, as any
// other; a client that leaves in the middle of a guessed value is
// forgotten.
func TestGuessedValueErrors(t *testing.T) {
	const size = 100_000
	srv, ev, addr := serveRESP(t, resp.DefaultConfig())
	c := dialClient(t, addr)
	c.expect(command("SET", "k1", value("a", size)), "+OK")
	bad := strings.TrimSuffix(command("SET", "k2", value("b", size)), "\r\n") + "XX"
	c.send(bad)
	if got := c.reply(); !strings.HasPrefix(got, "-ERR Protocol error") {
		t.Fatalf("a value without its CRLF: %q, want a protocol error", got)
	}
	if _, err := c.r.ReadByte(); err != io.EOF {
		t.Fatalf("after the protocol error: %v, want the server to close (EOF)", err)
	}
	if got := guesses(t, srv, ev); got[0] != 1 {
		t.Fatalf("guesses %v: the bad value was not read as guessed", got)
	}

	d := dialClient(t, addr)
	d.expect(command("SET", "k1", value("a", size)), "+OK")
	half := command("SET", "k2", value("b", size))
	d.send(half[:len(half)/2])
	time.Sleep(10 * time.Millisecond)
	d.conn.Close()
	e := dialClient(t, addr)
	e.expect(command("GET", "k2"), "$-1")
	waitConns(t, srv, ev, 1)
}

// waitConns waits until srv has n connections.
func waitConns(t *testing.T, srv *resp.Server, ev *tevent.Context, n int) {
	t.Helper()
	for range 1000 {
		got := make(chan int, 1)
		if err := ev.Post(func() { got <- srv.Conns() }); err != nil {
			t.Fatal(err)
		}
		if <-got == n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the server did not get down to %d connections", n)
}

// A random mix of SETs of large and small values under keys of several
// lengths, GETs and PINGs, pipelined in batches and written in random
// pieces: every reply is the one a plain map predicts, guessed reads
// among them. With two loops, keys the other
// loop owns carry the guessed values there.
func TestGuessedValuesRandom(t *testing.T) {
	for _, loops := range []int{1, 2} {
		t.Run(fmt.Sprint(loops, " loops"), func(t *testing.T) { guessRandomly(t, loops) })
	}
}

func guessRandomly(t *testing.T, loops int) {
	ls, group, addr := serveLoops(t, resp.DefaultConfig(), loops)
	c := dialClient(t, addr)
	rng := rand.New(rand.NewPCG(13, 2026))
	keys := []string{"k1", "k2", "key", "keys5"}
	sizes := []int{3, 5_000, 20_000, 100_000, 100_000, 100_000, 100_001, 150_000}
	model := map[string]string{}
	const ops = 200
	for op := 0; op < ops; {
		var batch strings.Builder
		var want []string
		for n := 1 + rng.IntN(3); n > 0 && op < ops; n-- {
			op++
			// Mostly one shape, so that guesses are made.
			k, size := keys[0], 100_000
			if rng.IntN(10) < 3 {
				k, size = keys[rng.IntN(len(keys))], sizes[rng.IntN(len(sizes))]
			}
			switch r := rng.IntN(10); {
			case r < 6:
				v := value(fmt.Sprint(k, op), size)
				batch.WriteString(command("SET", k, v))
				model[k] = v
				want = append(want, "+OK")
			case r < 9:
				batch.WriteString(command("GET", k))
				if v, ok := model[k]; ok {
					want = append(want, "$"+v)
				} else {
					want = append(want, "$-1")
				}
			default:
				batch.WriteString(command("PING"))
				want = append(want, "+PONG")
			}
		}
		// The batch is written by another goroutine, in pieces, while
		// this one reads the replies: neither waits for the other.
		var pieces []string
		for b := batch.String(); len(b) > 0; {
			n := min(len(b), 1+rng.IntN(120_000))
			pieces, b = append(pieces, b[:n]), b[n:]
		}
		wrote := make(chan error, 1)
		go func() {
			for _, p := range pieces {
				if _, err := io.WriteString(c.conn, p); err != nil {
					wrote <- err
					return
				}
			}
			wrote <- nil
		}()
		for i, w := range want {
			if got := c.reply(); got != w {
				t.Fatalf("op %d, reply %d of the batch: %.40q, want %.40q", op, i, got, w)
			}
		}
		if err := <-wrote; err != nil {
			t.Fatal(err)
		}
	}
	var g [3]int
	for i, ev := range group.Contexts() {
		gi := guesses(t, resp.LoopServer(ls, i), ev)
		g = [3]int{g[0] + gi[0], g[1] + gi[1], g[2] + gi[2]}
	}
	t.Logf("guesses right, wrong, short: %v", g)
	// How many of each depends on how the pieces arrive; that each way
	// works is TestGuessedValues's.
	if g[0]+g[1] == 0 {
		t.Fatalf("guesses (right, wrong, short) = %v: no read went past a guessed header", g)
	}
}
