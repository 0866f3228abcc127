package tlsio

import (
	"runtime"
	"sync"
)

// Workers bounds the goroutines running handshakes at once, process-wide.
// A handshake spends most of its time waiting for the peer, so the bound is
// well above the core count; a peer that stalls mid-handshake holds a
// worker until its request's end time, which is why servers set one.
// Handshakes past the bound wait their turn, in order.
var Workers = max(256, 16*runtime.GOMAXPROCS(0))

var pool struct {
	mu      sync.Mutex
	running int
	queue   []func()
}

// Go runs job on a pool goroutine. The goroutines exist only while there
// is work: an idle process has none.
func Go(job func()) {
	pool.mu.Lock()
	if pool.running >= Workers {
		pool.queue = append(pool.queue, job)
		pool.mu.Unlock()
		return
	}
	pool.running++
	pool.mu.Unlock()
	go work(job)
}

func work(job func()) {
	for job != nil {
		job()
		pool.mu.Lock()
		job = nil
		if len(pool.queue) > 0 {
			job = pool.queue[0]
			pool.queue[0] = nil
			pool.queue = pool.queue[1:]
		} else {
			pool.running--
		}
		pool.mu.Unlock()
	}
}
