package load

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IMAPConfig describes an IMAP IDLE run (see RunIMAP).
type IMAPConfig struct {
	Addr string
	// Conns is how many connections log in, select INBOX and IDLE.
	Conns int
	// Watch is how many of them time the new mail (the others are not
	// read at all, so the client's own wake-ups stay few).
	Watch int
	// DialConcurrency bounds the connections logging in at once.
	DialConcurrency int
	// User and Password are sent with LOGIN.
	User, Password string
	// Wait is how long the watchers may take to see the new mail.
	Wait time.Duration
	// Hold is called once every connection idles; the APPEND is made
	// when it returns.
	Hold func(IMAPResult)
}

// IMAPResult is what an IMAP run saw. Latencies run from the APPEND's
// tagged OK to a watcher reading its "* n EXISTS"; one that read it
// before the OK (the server may push first) counts as 0 and in Early.
type IMAPResult struct {
	Conns   int           `json:"conns"`
	Watched int           `json:"watched"`
	Told    int           `json:"told"` // watchers that saw the new mail within Wait
	Early   int           `json:"early"`
	P50     time.Duration `json:"p50_ns"`
	P99     time.Duration `json:"p99_ns"`
	Max     time.Duration `json:"max_ns"`
	Login   time.Duration `json:"login_ns"` // time to bring every connection to IDLE
}

// imapConn is one client connection, read a line at a time.
type imapConn struct {
	c   net.Conn
	r   *bufio.Reader
	tag int
}

func dialIMAP(addr string) (*imapConn, error) {
	c, err := net.DialTimeout("tcp4", addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	ic := &imapConn{c: c, r: bufio.NewReaderSize(c, 1024)}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	line, err := ic.line()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("load: IMAP greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") && !strings.HasPrefix(line, "* PREAUTH") {
		c.Close()
		return nil, fmt.Errorf("load: IMAP greeting %q", line)
	}
	return ic, nil
}

func (ic *imapConn) line() (string, error) {
	s, err := ic.r.ReadString('\n')
	return strings.TrimRight(s, "\r\n"), err
}

// command sends a tagged command and reads to its tagged reply, which
// must be OK. untagged sees every untagged line before it.
func (ic *imapConn) command(cmd string, untagged func(string)) error {
	ic.tag++
	tag := "b" + strconv.Itoa(ic.tag)
	if _, err := fmt.Fprintf(ic.c, "%s %s\r\n", tag, cmd); err != nil {
		return err
	}
	return ic.reply(tag, cmd, untagged)
}

func (ic *imapConn) reply(tag, cmd string, untagged func(string)) error {
	for {
		line, err := ic.line()
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				return fmt.Errorf("%s: %s", cmd, line)
			}
			return nil
		}
		if untagged != nil {
			untagged(line)
		}
	}
}

// existsCount parses "* n EXISTS".
func existsCount(line string) (int, bool) {
	rest, ok := strings.CutPrefix(line, "* ")
	if !ok {
		return 0, false
	}
	num, word, ok := strings.Cut(rest, " ")
	if !ok || !strings.EqualFold(word, "EXISTS") {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	return n, err == nil
}

// login brings ic to IDLE in INBOX and returns the message count SELECT
// reported.
func (ic *imapConn) login(user, pass string) (int, error) {
	if err := ic.command(fmt.Sprintf("LOGIN %s %s", user, pass), nil); err != nil {
		return 0, err
	}
	exists := -1
	if err := ic.command("SELECT INBOX", func(l string) {
		if n, ok := existsCount(l); ok {
			exists = n
		}
	}); err != nil {
		return 0, err
	}
	if exists < 0 {
		return 0, errors.New("SELECT INBOX: no EXISTS")
	}
	if _, err := fmt.Fprintf(ic.c, "i IDLE\r\n"); err != nil {
		return 0, err
	}
	for {
		line, err := ic.line()
		if err != nil {
			return 0, fmt.Errorf("IDLE: %w", err)
		}
		if strings.HasPrefix(line, "+") {
			return exists, nil
		}
		if strings.HasPrefix(line, "i ") {
			return 0, fmt.Errorf("IDLE: %s", line)
		}
	}
}

// newMail is a small message for APPEND.
const newMail = "From: bench <bench@localhost>\r\nTo: demo <demo@localhost>\r\nSubject: new mail\r\n" +
	"Message-ID: <bench@localhost>\r\n\r\nHello from the benchmark.\r\n"

// RunIMAP logs cfg.Conns connections in, selects INBOX and IDLEs on each,
// calls Hold, then APPENDs one message from another connection and times
// how soon cfg.Watch of the idlers see "* n EXISTS".
func RunIMAP(cfg IMAPConfig) (IMAPResult, error) {
	if cfg.Conns <= 0 || cfg.Watch < 0 || cfg.Watch > cfg.Conns {
		return IMAPResult{}, fmt.Errorf("load: IMAP run with %d connections, %d watched", cfg.Conns, cfg.Watch)
	}
	cfg.Wait = cmp.Or(cfg.Wait, 10*time.Second)
	conns := make([]*imapConn, cfg.Conns)
	defer func() {
		for _, ic := range conns {
			if ic != nil {
				ic.c.Close()
			}
		}
	}()
	appender, err := dialIMAP(cfg.Addr)
	if err != nil {
		return IMAPResult{}, err
	}
	defer appender.c.Close()
	if err := appender.command(fmt.Sprintf("LOGIN %s %s", cfg.User, cfg.Password), nil); err != nil {
		return IMAPResult{}, fmt.Errorf("load: %w", err)
	}
	t0 := time.Now()
	base := make([]int, cfg.Conns)
	err = openAll(cfg.Conns, cfg.DialConcurrency, func(i int) error {
		ic, err := dialIMAP(cfg.Addr)
		if err != nil {
			return err
		}
		conns[i] = ic
		if base[i], err = ic.login(cfg.User, cfg.Password); err != nil {
			return fmt.Errorf("load: IMAP connection %d: %w", i, err)
		}
		ic.c.SetDeadline(time.Time{})
		return nil
	})
	if err != nil {
		return IMAPResult{}, err
	}
	res := IMAPResult{Conns: cfg.Conns, Watched: cfg.Watch, Login: time.Since(t0)}
	if cfg.Hold != nil {
		cfg.Hold(res)
	}
	// The watchers read from here on; the rest are left unread.
	seen := make([]time.Time, cfg.Watch)
	var wg sync.WaitGroup
	for i := range cfg.Watch {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ic := conns[i]
			ic.c.SetReadDeadline(time.Now().Add(cfg.Wait + 30*time.Second))
			for {
				line, err := ic.line()
				if err != nil {
					return
				}
				if n, ok := existsCount(line); ok && n > base[i] {
					seen[i] = time.Now()
					return
				}
			}
		}()
	}
	appender.c.SetDeadline(time.Now().Add(30 * time.Second))
	appender.tag++
	tag := "b" + strconv.Itoa(appender.tag)
	if _, err := fmt.Fprintf(appender.c, "%s APPEND INBOX {%d}\r\n", tag, len(newMail)); err != nil {
		return res, fmt.Errorf("load: APPEND: %w", err)
	}
	line, err := appender.line()
	if err != nil || !strings.HasPrefix(line, "+") {
		return res, fmt.Errorf("load: APPEND: no continuation: %q %v", line, err)
	}
	if _, err := fmt.Fprintf(appender.c, "%s\r\n", newMail); err != nil {
		return res, fmt.Errorf("load: APPEND: %w", err)
	}
	if err := appender.reply(tag, "APPEND", nil); err != nil {
		return res, fmt.Errorf("load: %w", err)
	}
	ok := time.Now()
	// Give the watchers Wait, then unblock the ones still reading.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(cfg.Wait):
		for i := range cfg.Watch {
			conns[i].c.SetReadDeadline(time.Now())
		}
		<-done
	}
	var lat []time.Duration
	for _, t := range seen {
		if t.IsZero() {
			continue
		}
		d := t.Sub(ok)
		if d < 0 {
			res.Early++
			d = 0
		}
		lat = append(lat, d)
	}
	res.Told = len(lat)
	if len(lat) > 0 {
		slices.Sort(lat)
		res.P50, res.P99, res.Max = quantile(lat, 0.5), quantile(lat, 0.99), lat[len(lat)-1]
	}
	return res, nil
}

// quantile is the nearest-rank p-quantile of sorted.
func quantile(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
