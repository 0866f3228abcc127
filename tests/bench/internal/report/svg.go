package report

import (
	"bytes"
	"fmt"
	"html"
	"math"
)

// Panel is one bar chart of a workload's figure: one bar per series, the
// median, with a whisker from the smallest to the largest sample.
type Panel struct {
	Title  string
	Metric string
	Format func(float64) string
	// Better says which way is good, for the caption: "higher" or "lower".
	Better string
}

const (
	svgWidth  = 960
	labelW    = 120
	rowH      = 24
	barH      = 15
	topH      = 62
	bottomH   = 26
	panelGap  = 28
	colorBase = "#8c8c8c"
	colorOurs = "#e6550d"
	colorPeer = "#3182bd"
)

// SVG draws w as side-by-side horizontal bar charts, one per panel.
func SVG(w *Workload, panels []Panel) []byte {
	series := w.Sorted()
	h := topH + rowH*len(series) + bottomH
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n", svgWidth, h, svgWidth, h)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", svgWidth, h)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="15" font-weight="bold">%s</text>`+"\n", esc(w.Title))
	for i, s := range series {
		y := topH + i*rowH + rowH/2 + 4
		weight := "normal"
		if IsOurs(s.Server) {
			weight = "bold"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" font-weight="%s">%s</text>`+"\n", labelW-8, y, weight, esc(s.Server))
	}
	pw := (svgWidth - labelW - 10 - panelGap*(len(panels)-1)) / len(panels)
	for p, pan := range panels {
		x0 := labelW + p*(pw+panelGap)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0, topH-22, esc(pan.Title))
		if pan.Better != "" {
			fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555">%s is better</text>`+"\n", x0, topH-8, pan.Better)
		}
		maxV := 0.0
		for _, s := range series {
			if st, ok := s.Stat(pan.Metric); ok {
				maxV = math.Max(maxV, st.Max)
			}
		}
		if maxV <= 0 {
			maxV = 1
		}
		// Keep room on the right for the value label.
		scale := float64(pw-70) / maxV
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>`+"\n", x0, topH-2, x0, topH+rowH*len(series))
		for i, s := range series {
			yTop := topH + i*rowH + (rowH-barH)/2
			st, ok := s.Stat(pan.Metric)
			if !ok {
				text := "no data"
				if s.Skipped != "" {
					text = "not run"
				}
				fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#999">%s</text>`+"\n", x0+6, yTop+barH-3, text)
				continue
			}
			color := colorPeer
			switch {
			case s.Server == w.Base:
				color = colorBase
			case IsOurs(s.Server):
				color = colorOurs
			}
			bw := st.Med * scale
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`+"\n",
				x0, yTop, bw, barH, color, esc(s.Server), esc(pan.Format(st.Med)))
			if st.N > 1 && st.Max > st.Min {
				cy := float64(yTop) + barH/2.0
				x1, x2 := float64(x0)+st.Min*scale, float64(x0)+st.Max*scale
				fmt.Fprintf(&b, `<path d="M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f" stroke="#222" stroke-width="1.2" fill="none"/>`+"\n",
					x1, cy, x2, x1, cy-4, cy+4, x2, cy-4, cy+4)
			}
			tx := float64(x0) + math.Max(bw, st.Max*scale) + 5
			fmt.Fprintf(&b, `<text x="%.1f" y="%d">%s</text>`+"\n", tx, yTop+barH-3, esc(pan.Format(st.Med)))
		}
	}
	n := 0
	for _, s := range series {
		n = max(n, len(s.Samples))
	}
	fmt.Fprintf(&b, `<text x="10" y="%d" fill="#555">bars: median of %d round(s); whiskers: smallest to largest; orange: gotevent, grey: %s (the baseline), blue: peers</text>`+"\n",
		h-9, n, esc(w.Base))
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func esc(s string) string { return html.EscapeString(s) }
