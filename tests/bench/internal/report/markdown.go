package report

import (
	"fmt"
	"strings"
)

// Target is one of the targets and how the run did against it.
type Target struct {
	Name     string
	Measured string
	// Verdict is "met", "missed" or "not measured".
	Verdict string
}

// Doc is everything docs/performance.md shows.
type Doc struct {
	Title     string
	Intro     string      // markdown, before everything
	Header    [][2]string // the machine table
	Targets   []Target
	Method    string // markdown
	Workloads []*Workload
	Analysis  string // markdown, after the workloads
	SVGDir    string // where the charts are, relative to the document
}

// Panels returns the charts drawn for a workload of w's kind.
func Panels(w *Workload) []Panel {
	switch w.Kind {
	case Idle:
		return []Panel{
			{Title: "Go heap + stack per connection", Metric: "heapstack", Format: Bytes, Better: "lower"},
			{Title: "RSS per connection", Metric: "rss", Format: Bytes, Better: "lower"},
		}
	case Timers:
		return []Panel{
			{Title: "CPU per timer (arm, then cancel or fire)", Metric: "cpu", Format: Nanos, Better: "lower"},
			{Title: "allocations per fired timer", Metric: "allocs", Format: sig, Better: "lower"},
		}
	case IMAP:
		return []Panel{
			{Title: "PSS per idling connection", Metric: "pss", Format: Bytes, Better: "lower"},
			{Title: "new-mail latency, p99", Metric: "p99", Format: Nanos, Better: "lower"},
		}
	case Slow:
		return []Panel{
			{Title: "server RSS growth (peak)", Metric: "rss", Format: Bytes, Better: "lower"},
			{Title: "PING latency, max", Metric: "pingmax", Format: Nanos, Better: "lower"},
		}
	}
	return []Panel{
		{Title: w.Unit + " per second", Metric: "rate", Format: Human, Better: "higher"},
		{Title: "server CPU per " + w.Unit, Metric: "cpu", Format: Nanos, Better: "lower"},
	}
}

// Render returns the markdown document and the charts, keyed by file name.
func Render(d *Doc) (string, map[string][]byte) {
	var b strings.Builder
	svgs := map[string][]byte{}
	fmt.Fprintf(&b, "# %s\n\n", d.Title)
	if d.Intro != "" {
		b.WriteString(strings.TrimSpace(d.Intro) + "\n\n")
	}
	if len(d.Header) > 0 {
		b.WriteString("| | |\n| --- | --- |\n")
		for _, kv := range d.Header {
			fmt.Fprintf(&b, "| %s | %s |\n", kv[0], kv[1])
		}
		b.WriteString("\n")
	}
	if len(d.Targets) > 0 {
		b.WriteString("## Targets\n\n| target | measured (medians, same run) | verdict |\n| --- | --- | --- |\n")
		for _, t := range d.Targets {
			fmt.Fprintf(&b, "| %s | %s | **%s** |\n", t.Name, t.Measured, t.Verdict)
		}
		b.WriteString("\n")
	}
	if d.Method != "" {
		b.WriteString(strings.TrimSpace(d.Method) + "\n\n")
	}
	for _, w := range d.Workloads {
		fmt.Fprintf(&b, "## %s\n\n", w.Title)
		if w.Note != "" {
			b.WriteString(w.Note + "\n\n")
		}
		if w.Skipped != "" {
			fmt.Fprintf(&b, "Not run: %s\n\n", w.Skipped)
			continue
		}
		name := w.ID + ".svg"
		svgs[name] = SVG(w, Panels(w))
		fmt.Fprintf(&b, "![%s](%s/%s)\n\n", w.Title, d.SVGDir, name)
		switch w.Kind {
		case Idle:
			idleTable(&b, w)
		case Timers:
			timersTable(&b, w)
		case Slow:
			slowTable(&b, w)
		case IMAP:
			imapTable(&b, w)
		default:
			loadTable(&b, w)
		}
		for _, s := range w.Sorted() {
			for _, e := range s.Errors() {
				fmt.Fprintf(&b, "- %s failed a round: `%s`\n", s.Server, e)
			}
		}
		b.WriteString("\n")
	}
	if d.Analysis != "" {
		b.WriteString(strings.TrimSpace(d.Analysis) + "\n")
	}
	return b.String(), svgs
}

func cell(s Stat, f func(float64) string) string {
	if s.N > 1 {
		return fmt.Sprintf("%s (%s–%s)", f(s.Med), f(s.Min), f(s.Max))
	}
	return f(s.Med)
}

func pct(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

func ratio(r float64, ok bool) string {
	if !ok {
		return "–"
	}
	return fmt.Sprintf("%.2f×", r)
}

func loadTable(b *strings.Builder, w *Workload) {
	fmt.Fprintf(b, "| server | %s/s | server CPU per %s | server CPU use | client CPU use | %s/s vs %s | CPU/%s vs %s | CPU/%s vs best peer | |\n",
		w.Unit, w.Unit, w.Unit, w.Base, w.Unit, w.Base, w.Unit)
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range w.Sorted() {
		if skippedRow(b, s, 9) {
			continue
		}
		rate, ok1 := s.Stat("rate")
		cpu, ok2 := s.Stat("cpu")
		if !ok1 || !ok2 {
			fmt.Fprintf(b, "| %s | no data | | | | | | | |\n", s.Server)
			continue
		}
		su, _ := s.Stat("sutil")
		cu, _ := s.Stat("cutil")
		rr, okr := w.Ratio(s.Server, "rate")
		cr, okc := w.Ratio(s.Server, "cpu")
		best := bestPeerCell(w, s.Server, "cpu")
		var flags []string
		if su.Med < 0.9 {
			flags = append(flags, "server not saturated")
		}
		if fo, ok := s.Stat("foreign"); ok && fo.Med > 0.1 {
			flags = append(flags, fmt.Sprintf("other processes used %.2f cores", fo.Med))
		}
		flag := strings.Join(flags, "; ")
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name(s.Server), cell(rate, Human), cell(cpu, Nanos),
			pct(su.Med), pct(cu.Med), ratio(rr, okr), ratio(cr, okc), best, flag)
	}
}

// bestPeerCell is the "vs best peer" cell: server's ratio of a
// lower-is-better metric to the best other server, or a dash.
func bestPeerCell(w *Workload, server, metric string) string {
	if r, peer, ok := w.RatioToBestPeer(server, metric, true); ok && peer != server {
		return fmt.Sprintf("%.2f× (%s)", r, peer)
	}
	return "–"
}

func idleTable(b *strings.Builder, w *Workload) {
	fmt.Fprintf(b, "| server | Go heap+stack per conn | RSS per conn | heap+stack vs %s | RSS vs %s | heap+stack vs best peer |\n", w.Base, w.Base)
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, s := range w.Sorted() {
		if skippedRow(b, s, 6) {
			continue
		}
		hs, ok1 := s.Stat("heapstack")
		rss, ok2 := s.Stat("rss")
		if !ok2 {
			fmt.Fprintf(b, "| %s | no data | | | | |\n", s.Server)
			continue
		}
		// A server that is not ours to instrument (the demo, redis-server)
		// reports no Go heap: RSS only.
		hsCell, hr, okh, best := "not reported", 0.0, false, "–"
		if ok1 {
			hsCell = cell(hs, Bytes)
			hr, okh = w.Ratio(s.Server, "heapstack")
			best = bestPeerCell(w, s.Server, "heapstack")
		}
		rr, okr := w.Ratio(s.Server, "rss")
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", name(s.Server), hsCell, cell(rss, Bytes),
			ratio(hr, okh), ratio(rr, okr), best)
	}
}

func timersTable(b *strings.Builder, w *Workload) {
	fmt.Fprintf(b, "| implementation | timers per CPU second | CPU per timer | allocations per fired timer | wall time | rate vs %s |\n", w.Base)
	b.WriteString("| --- | --- | --- | --- | --- | --- |\n")
	for _, s := range w.Sorted() {
		if skippedRow(b, s, 6) {
			continue
		}
		rate, ok1 := s.Stat("rate")
		cpu, ok2 := s.Stat("cpu")
		if !ok1 || !ok2 {
			fmt.Fprintf(b, "| %s | no data | | | | |\n", s.Server)
			continue
		}
		al, _ := s.Stat("allocs")
		wall, _ := s.Stat("wall")
		rr, ok := w.Ratio(s.Server, "rate")
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", name(s.Server), cell(rate, Human), cell(cpu, Nanos),
			sig(al.Med), fmt.Sprintf("%.2f s", wall.Med), ratio(rr, ok))
	}
}

func slowTable(b *strings.Builder, w *Workload) {
	statTable(b, w, []string{"rss", "pingmax"}, []column{
		{"RSS growth (peak)", med("rss", Bytes)},
		{"PING latency, max", med("pingmax", Nanos)},
		{"PINGs unanswered at the end", func(s *Series) string { st, _ := s.Stat("late"); return fmt.Sprintf("%.0f", st.Max) }},
		{"slow client's requests read", func(s *Series) string { st, _ := s.Stat("taken"); return pct(st.Med) }},
		{"slow client dropped", func(s *Series) string {
			st, _ := s.Stat("dropped")
			return map[bool]string{true: "yes", false: "no"}[st.Med >= 0.5]
		}},
	})
}

func imapTable(b *strings.Builder, w *Workload) {
	statTable(b, w, []string{"pss", "p99"}, []column{
		{"PSS per conn", med("pss", Bytes)},
		{"RSS per conn", med("rss", Bytes)},
		{"of it, hibernation process", func(s *Series) string {
			if st, ok := s.Stat("hibpss"); ok {
				return cell(st, Bytes)
			}
			return "–"
		}},
		{"new mail p50", med("p50", Nanos)},
		{"p99", med("p99", Nanos)},
		{"max", med("max", Nanos)},
		{"timed idlers told", func(s *Series) string { st, _ := s.Stat("told"); return pct(st.Min) }},
	})
}

// column is one column of a statTable: its heading and its cell for a
// series.
type column struct {
	head string
	cell func(s *Series) string
}

// med is a column cell: the median of metric with its spread.
func med(metric string, f func(float64) string) func(*Series) string {
	return func(s *Series) string {
		st, _ := s.Stat(metric)
		return cell(st, f)
	}
}

// statTable writes one row per series: the server, then cols. A series
// lacking one of the metrics in need has no data.
func statTable(b *strings.Builder, w *Workload, need []string, cols []column) {
	heads := []string{"server"}
	for _, c := range cols {
		heads = append(heads, c.head)
	}
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(heads, " | "), strings.Repeat(" --- |", len(heads)))
	for _, s := range w.Sorted() {
		if skippedRow(b, s, len(heads)) {
			continue
		}
		cells := []string{name(s.Server)}
		for _, m := range need {
			if _, ok := s.Stat(m); !ok {
				cells = []string{s.Server, "no data"}
			}
		}
		if len(cells) == 1 {
			for _, c := range cols {
				cells = append(cells, c.cell(s))
			}
		}
		fmt.Fprintf(b, "| %s |%s\n", strings.Join(cells, " | "), strings.Repeat(" |", len(heads)-len(cells)))
	}
}

// skippedRow writes the row of a server that was not run, with cols
// cells, and reports whether it did.
func skippedRow(b *strings.Builder, s *Series, cols int) bool {
	if s.Skipped == "" {
		return false
	}
	fmt.Fprintf(b, "| %s | not run: %s |%s\n", name(s.Server), s.Skipped, strings.Repeat(" |", cols-2))
	return true
}

func name(server string) string {
	if IsOurs(server) {
		return "**" + server + "**"
	}
	return server
}
