package docs_test

import (
	"fmt"
	"time"

	"github.com/gotevent/gotevent/tevent"
)

// The shape of every asynchronous call: Send, set a callback, run the loop,
// collect the result with Recv inside the callback.
func Example_firstRequest() {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev, err := tevent.NewContext(tevent.WithClock(tevent.NewFakeClock(start)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()

	req := tevent.WakeupSend(ev, ev.Now().Add(time.Second))
	req.SetCallback(func(req *tevent.Req[struct{}]) {
		err := tevent.WakeupRecv(req)
		fmt.Println("woke up after", ev.Now().Sub(start), "error:", err)
	})
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// woke up after 1s error: <nil>
}

// cachedSend answers from a cache. The request is finished before
// cachedSend returns, so it returns req.Post(): the callback runs on a
// later iteration, once the caller has set it.
func cachedSend(ev *tevent.Context, cache map[string]string, key string) *tevent.Req[string] {
	req := tevent.NewReq[string](ev)
	v, ok := cache[key]
	if !ok {
		req.Error(fmt.Errorf("%q is not cached", key))
		return req.Post()
	}
	req.Done(v)
	return req.Post()
}

// A request finished inside its Send function still calls back from the
// loop, after the caller's code has run.
func Example_post() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	cache := map[string]string{"greeting": "hello"}

	req := cachedSend(ev, cache, "greeting")
	req.SetCallback(func(req *tevent.Req[string]) {
		v, err := req.Recv()
		fmt.Println("callback:", v, err)
	})
	fmt.Println("callback set")
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// callback set
	// callback: hello <nil>
}
