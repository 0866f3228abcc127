package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sample(round int, kv ...float64) *Sample {
	names := []string{"rate", "cpu", "sutil", "cutil"}
	v := map[string]float64{}
	for i, x := range kv {
		v[names[i]] = x
	}
	return &Sample{Round: round, Values: v}
}

func fixture() *Workload {
	w := &Workload{ID: "pp50", Title: "Echo <64 B> & more", Kind: Load, Unit: "msg", Base: "net"}
	w.Get("net").Samples = []*Sample{sample(0, 100, 10, 1, 1), sample(1, 120, 12, 1, 1), sample(2, 110, 14, 1, 1)}
	w.Get("gnet").Samples = []*Sample{sample(0, 200, 5, 1, 1), sample(1, 210, 6, 1, 1)}
	w.Get("gotevent").Samples = []*Sample{sample(0, 300, 4, 0.5, 1), {Round: 1, Err: "boom"}}
	return w
}

func TestStatAndRatios(t *testing.T) {
	w := fixture()
	got, _ := w.Get("net").Stat("cpu")
	if diff := cmp.Diff(Stat{Med: 12, Min: 10, Max: 14, N: 3}, got); diff != "" {
		t.Errorf("net cpu mismatch (-want +got):\n%s", diff)
	}
	got, _ = w.Get("gnet").Stat("rate")
	if diff := cmp.Diff(Stat{Med: 205, Min: 200, Max: 210, N: 2}, got); diff != "" {
		t.Errorf("gnet rate mismatch (-want +got):\n%s", diff)
	}
	if r, ok := w.Ratio("gotevent", "cpu"); !ok || r != 4.0/12 {
		t.Errorf("cpu ratio %v %v", r, ok)
	}
	r, peer, ok := w.RatioToBestPeer("gotevent", "cpu", true)
	if !ok || peer != "gnet" || r != 4/5.5 {
		t.Errorf("best peer %v %v %v", r, peer, ok)
	}
	if peer, _ := w.BestPeer("rate", false); peer != "gnet" {
		t.Errorf("best rate peer %v", peer)
	}
	var order []string
	for _, s := range w.Sorted() {
		order = append(order, s.Server)
	}
	if diff := cmp.Diff([]string{"net", "gotevent", "gnet"}, order); diff != "" {
		t.Errorf("order mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"boom"}, w.Get("gotevent").Errors()); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
}

func wellFormed(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("SVG not well-formed: %v\n%s", err, b)
		}
	}
}

func TestRender(t *testing.T) {
	idle := &Workload{ID: "idle", Title: "Idle", Kind: Idle, Base: "net"}
	idle.Get("net").Samples = []*Sample{{Values: map[string]float64{"heapstack": 24 << 10, "rss": 30 << 10}}}
	idle.Get("gotevent").Samples = []*Sample{{Values: map[string]float64{"heapstack": 700, "rss": 3 << 10}}}
	idle.Get("gotevent-resp").Samples = []*Sample{{Values: map[string]float64{"rss": 6 << 10}}}
	idle.Get("gotevent-resp-tls").Skipped = "not supported by this build"
	slow := &Workload{ID: "slow", Title: "Slow consumer", Kind: Slow, Base: "redis-server"}
	slow.Get("redis-server").Samples = []*Sample{{Values: map[string]float64{"rss": 3 << 30, "pingmax": 4e8, "late": 0, "taken": 1, "dropped": 0}}}
	slow.Get("gotevent-resp").Samples = []*Sample{{Values: map[string]float64{"rss": 5 << 20, "pingmax": 2e5, "late": 0, "taken": 0.25, "dropped": 1}}}
	timers := &Workload{ID: "timers", Title: "Timers", Kind: Timers, Base: "afterfunc"}
	timers.Get("afterfunc").Samples = []*Sample{{Values: map[string]float64{"rate": 1e5, "cpu": 1e4, "allocs": 1, "wall": 7}}}
	timers.Get("gotevent").Samples = []*Sample{{Values: map[string]float64{"rate": 1e6, "cpu": 1e3, "allocs": 0, "wall": 2}}}
	skipped := &Workload{ID: "rb", Title: "redis-benchmark", Skipped: "not installed"}
	imap := &Workload{ID: "imap", Title: "IMAP", Kind: IMAP, Base: "gotevent-imap"}
	imap.Get("gotevent-imap").Samples = []*Sample{{Values: map[string]float64{"pss": 3 << 10, "rss": 4 << 10, "p50": 1e5, "p99": 2e6, "max": 3e6, "told": 1}}}
	imap.Get("gotevent-imap-hibernate").Samples = []*Sample{{Values: map[string]float64{"pss": 2 << 10, "rss": 3 << 10, "hibpss": 1 << 10, "p50": 1e5, "p99": 2e6, "max": 3e6, "told": 1}}}
	md, svgs := Render(&Doc{Title: "Performance", Header: [][2]string{{"Go", "go1.26"}},
		Targets:   []Target{{Name: "t", Measured: "m", Verdict: "met"}},
		Workloads: []*Workload{fixture(), idle, timers, skipped, slow, imap}, SVGDir: "perf"})
	for _, want := range []string{
		"![Echo <64 B> & more](perf/pp50.svg)",
		"| **gotevent** | 300 | 4.00 ns | 50% | 100% | 2.73× | 0.33× | 0.73× (gnet) | server not saturated |",
		"- gotevent failed a round: `boom`",
		"| **gotevent** | 700 B | 3072 B | 0.03× | 0.10× | 0.03× (net) |",
		"| **gotevent-resp** | not reported | 6144 B | – | 0.20× | – |",
		"| **gotevent-resp-tls** | not run: not supported by this build | | | | |",
		"| redis-server | 3.00 GiB | 400 ms | 0 | 100% | no |",
		"| **gotevent-resp** | 5.00 MiB | 200 µs | 0 | 25% | yes |",
		"| **gotevent** | 1.00M | 1.00 µs | 0.00 | 2.00 s | 10.00× |",
		"Not run: not installed",
		"| **gotevent-imap** | 3072 B | 4096 B | – | 100 µs | 2.00 ms | 3.00 ms | 100% |",
		"| **gotevent-imap-hibernate** | 2048 B | 3072 B | 1024 B | 100 µs | 2.00 ms | 3.00 ms | 100% |",
		"| t | m | **met** |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if len(svgs) != 5 {
		t.Fatalf("%d charts", len(svgs))
	}
	for _, b := range svgs {
		wellFormed(t, b)
	}
	if !bytes.Contains(svgs["pp50.svg"], []byte("Echo &lt;64 B&gt; &amp; more")) {
		t.Error("title not escaped")
	}
	if !bytes.Contains(svgs["idle.svg"], []byte(">not run<")) {
		t.Error("the skipped server's bars do not say it was not run")
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Human(1234567), "1.23M"}, {Human(45678), "45.7k"}, {Human(950), "950"},
		{Bytes(512), "512 B"}, {Bytes(24 << 10), "24.0 KiB"}, {Bytes(3 << 20), "3.00 MiB"},
		{Nanos(850), "850 ns"}, {Nanos(2500), "2.50 µs"}, {Nanos(1.5e6), "1.50 ms"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
