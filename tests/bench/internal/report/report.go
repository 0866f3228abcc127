// Package report turns benchmark samples into docs/performance.md: a table
// per workload (medians with their spread, ratios to Go net and to the best
// peer) and an SVG bar chart per workload, drawn by hand.
package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Kind says which metrics a workload's samples carry.
type Kind string

const (
	// Load samples carry rate (units/s), cpu (server CPU ns per unit),
	// sutil and cutil (server and client CPU use, 0..1).
	Load Kind = "load"
	// Idle samples carry heapstack and rss (bytes per connection).
	Idle Kind = "idle"
	// Timers samples carry rate (timers per CPU second), cpu (CPU ns per
	// timer), allocs (per fired timer) and wall (seconds).
	Timers Kind = "timers"
	// Slow (slow consumer) samples carry rss (peak RSS growth, bytes),
	// pingmax (the other client's slowest PING, ns), late (PINGs not
	// answered by the end), taken (the share of the slow client's
	// requests the server read, 0..1) and dropped (1 when the server
	// closed the slow connection).
	Slow Kind = "slow"
	// IMAP samples carry pss and rss (bytes per idling connection), p50,
	// p99 and max (new-mail latency, ns) and told (the share of the timed
	// idlers that saw the new mail, 0..1); with hibernation, hibpss (the
	// hibernation process's part of pss).
	IMAP Kind = "imap"
)

// Sample is one measurement of one server in one round.
type Sample struct {
	Round  int                `json:"round"`
	Values map[string]float64 `json:"values"`
	Err    string             `json:"err,omitempty"`
}

// Series is one server's samples in a workload.
type Series struct {
	Server  string    `json:"server"`
	Samples []*Sample `json:"samples"`
	// Skipped says why this server was not run, if it was not (a demo
	// build without the flag the workload needs, a peer not installed).
	Skipped string `json:"skipped,omitempty"`
}

// Workload is one workload's results.
type Workload struct {
	ID      string    `json:"id"`
	Title   string    `json:"title"`
	Kind    Kind      `json:"kind"`
	Unit    string    `json:"unit"`    // what rate counts: "msg", "MiB", "conn", "req", "timer"
	Base    string    `json:"base"`    // the series ratios are taken against
	Note    string    `json:"note"`    // how it was run
	Skipped string    `json:"skipped"` // why it did not run, if it did not
	Series  []*Series `json:"series"`
}

// Get returns the series for server, creating it.
func (w *Workload) Get(server string) *Series {
	for _, s := range w.Series {
		if s.Server == server {
			return s
		}
	}
	s := &Series{Server: server}
	w.Series = append(w.Series, s)
	return s
}

// Stat is the median and spread of one metric over a series' good samples.
type Stat struct {
	Med, Min, Max float64
	N             int
}

// Stat summarises metric over the samples without an error.
func (s *Series) Stat(metric string) (Stat, bool) {
	var v []float64
	for _, smp := range s.Samples {
		if smp.Err != "" {
			continue
		}
		if x, ok := smp.Values[metric]; ok && !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return Stat{}, false
	}
	slices.Sort(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return Stat{Med: med, Min: v[0], Max: v[len(v)-1], N: len(v)}, true
}

// Errors returns the distinct errors of the series' failed samples.
func (s *Series) Errors() []string {
	var errs []string
	for _, smp := range s.Samples {
		if smp.Err != "" && !slices.Contains(errs, smp.Err) {
			errs = append(errs, smp.Err)
		}
	}
	return errs
}

// IsOurs reports whether server is one of gotevent's.
func IsOurs(server string) bool { return strings.HasPrefix(server, "gotevent") }

// Ratio returns the median of metric for server divided by that of the
// base series, and false when either is missing.
func (w *Workload) Ratio(server, metric string) (float64, bool) {
	return w.RatioTo(server, w.Base, metric)
}

// RatioTo returns the median of metric for server divided by that of
// other.
func (w *Workload) RatioTo(server, other, metric string) (float64, bool) {
	a, ok1 := w.stat(server, metric)
	b, ok2 := w.stat(other, metric)
	if !ok1 || !ok2 || b.Med == 0 {
		return 0, false
	}
	return a.Med / b.Med, true
}

func (w *Workload) stat(server, metric string) (Stat, bool) {
	for _, s := range w.Series {
		if s.Server == server {
			return s.Stat(metric)
		}
	}
	return Stat{}, false
}

// BestPeer returns the peer (a series not gotevent's) with the best median
// of metric, lowest or highest as lowerBetter says.
func (w *Workload) BestPeer(metric string, lowerBetter bool) (string, bool) {
	best, bestV := "", 0.0
	for _, s := range w.Series {
		if IsOurs(s.Server) {
			continue
		}
		st, ok := s.Stat(metric)
		if !ok {
			continue
		}
		if best == "" || (lowerBetter && st.Med < bestV) || (!lowerBetter && st.Med > bestV) {
			best, bestV = s.Server, st.Med
		}
	}
	return best, best != ""
}

// RatioToBestPeer is Ratio against BestPeer.
func (w *Workload) RatioToBestPeer(server, metric string, lowerBetter bool) (float64, string, bool) {
	peer, ok := w.BestPeer(metric, lowerBetter)
	if !ok {
		return 0, "", false
	}
	r, ok := w.RatioTo(server, peer, metric)
	return r, peer, ok
}

// Sorted returns the series ordered: the base first, then gotevent's, then
// the other peers by name.
func (w *Workload) Sorted() []*Series {
	out := slices.Clone(w.Series)
	rank := func(s *Series) int {
		switch {
		case s.Server == w.Base:
			return 0
		case IsOurs(s.Server):
			return 1
		}
		return 2
	}
	slices.SortStableFunc(out, func(a, b *Series) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.Server, b.Server)
	})
	return out
}

// Human formats x with an SI suffix (k, M, G) and three significant digits.
func Human(x float64) string {
	ax := math.Abs(x)
	switch {
	case ax >= 1e9:
		return sig(x/1e9) + "G"
	case ax >= 1e6:
		return sig(x/1e6) + "M"
	case ax >= 1e4:
		return sig(x/1e3) + "k"
	}
	return sig(x)
}

func sig(x float64) string {
	ax := math.Abs(x)
	switch {
	case ax >= 100:
		return fmt.Sprintf("%.0f", x)
	case ax >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.2f", x)
}

// Bytes formats a byte count with binary units.
func Bytes(x float64) string {
	ax := math.Abs(x)
	switch {
	case ax >= 1<<30:
		return sig(x/(1<<30)) + " GiB"
	case ax >= 1<<20:
		return sig(x/(1<<20)) + " MiB"
	case ax >= 10<<10:
		return sig(x/(1<<10)) + " KiB"
	}
	return fmt.Sprintf("%.0f B", x)
}

// Nanos formats a CPU time in nanoseconds.
func Nanos(x float64) string {
	switch {
	case x >= 1e6:
		return sig(x/1e6) + " ms"
	case x >= 1e3:
		return sig(x/1e3) + " µs"
	}
	return sig(x) + " ns"
}
