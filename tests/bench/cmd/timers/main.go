// Command timers arms N timers, cancels every other one and lets the rest
// fire, with gotevent's timers (one tevent loop) or with time.AfterFunc, and
// prints one JSON line: CPU and wall time for the whole, and allocations
// made while the timers fired. Deadlines lie Lead after the start, spread
// over 100 ms, so no timer fires before it could be cancelled.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// Result is the line printed.
type Result struct {
	Impl       string        `json:"impl"`
	N          int           `json:"n"`
	Fired      int64         `json:"fired"`
	Early      int           `json:"early"` // fired before their cancel (AfterFunc only)
	CPU        time.Duration `json:"cpu_ns"`
	Wall       time.Duration `json:"wall_ns"`
	ArmCPU     time.Duration `json:"arm_cpu_ns"`
	FireAllocs uint64        `json:"fire_allocs"`
}

func main() {
	impl := flag.String("impl", "gotevent", "gotevent or afterfunc")
	n := flag.Int("n", 1_000_000, "timers to arm")
	lead := flag.Duration("lead", 2*time.Second, "how far ahead the earliest deadline lies")
	flag.Parse()
	var res Result
	var err error
	switch *impl {
	case "gotevent":
		res, err = runTevent(*n, *lead)
	case "afterfunc":
		res, err = runAfterFunc(*n, *lead)
	default:
		err = fmt.Errorf("unknown -impl %q", *impl)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "timers:", err)
		os.Exit(1)
	}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
}

func deadline(base time.Time, i int) time.Time {
	return base.Add(time.Duration(i%1000) * 100 * time.Microsecond)
}

func cpuTime() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var allocSample = []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}

func allocs() uint64 {
	metrics.Read(allocSample)
	return allocSample[0].Value.Uint64()
}

func runTevent(n int, lead time.Duration) (Result, error) {
	runtime.LockOSThread()
	ev, err := tevent.NewContext()
	if err != nil {
		return Result{}, err
	}
	defer ev.Close()
	var fired int64
	h := func(*tevent.Timer, time.Time) { fired++ }
	timers := make([]*tevent.Timer, n)
	cpu0, t0 := cpuTime(), time.Now()
	base := t0.Add(lead)
	for i := range timers {
		timers[i] = ev.AddTimer(deadline(base, i), h)
	}
	for i := 0; i < n; i += 2 {
		timers[i].Cancel()
	}
	armCPU := cpuTime() - cpu0
	want := int64(n / 2)
	a0 := allocs()
	if err := ev.LoopUntil(func() bool { return fired == want }); err != nil {
		return Result{}, err
	}
	a1 := allocs()
	return Result{Impl: "gotevent", N: n, Fired: fired, CPU: cpuTime() - cpu0, Wall: time.Since(t0),
		ArmCPU: armCPU, FireAllocs: a1 - a0}, nil
}

func runAfterFunc(n int, lead time.Duration) (Result, error) {
	var fired atomic.Int64
	want := int64(n / 2)
	done := make(chan struct{})
	f := func() {
		if fired.Add(1) == want {
			close(done)
		}
	}
	timers := make([]*time.Timer, n)
	cpu0, t0 := cpuTime(), time.Now()
	base := t0.Add(lead)
	for i := range timers {
		timers[i] = time.AfterFunc(time.Until(deadline(base, i)), f)
	}
	early := 0
	for i := 0; i < n; i += 2 {
		if !timers[i].Stop() {
			early++
		}
	}
	armCPU := cpuTime() - cpu0
	a0 := allocs()
	<-done
	a1 := allocs()
	return Result{Impl: "afterfunc", N: n, Fired: fired.Load(), Early: early, CPU: cpuTime() - cpu0,
		Wall: time.Since(t0), ArmCPU: armCPU, FireAllocs: a1 - a0}, nil
}
