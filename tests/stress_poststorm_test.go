package tests

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
)

// postStorm is 64 goroutines posting to one context as fast as they can
// while it is closed; posted functions post again (up to three levels), from
// the loop goroutine. Every post gets a unique id; each run marks its id.
type postStorm struct {
	t  *testing.T
	ev *tevent.Context

	ids      atomic.Int64    // ids handed out
	runs     []atomic.Uint32 // runs per id
	accepted atomic.Int64    // Posts that returned nil
	ran      atomic.Int64
	inFlight atomic.Int32 // posted functions running now: never more than one
	overlap  atomic.Int32
	badErr   atomic.Value // an error other than ErrClosed from Post

	// The storm is judged established once acceptedAt posts were accepted
	// (reached is closed then, for closers on other goroutines) or, for a
	// closer inside a posted function, once runAt functions ran (onRun is
	// called then, on the loop). The loop runs posts far more slowly than
	// 64 goroutines make them, so counting runs would let the posters use
	// up every id first.
	acceptedAt int64
	reached    chan struct{}
	runAt      int64
	onRun      func()
	closing    atomic.Bool // onRun is in Close: what runs meanwhile is nested, not concurrent
}

const stormIDs = 1 << 20

func (s *postStorm) post(depth int) bool {
	id := s.ids.Add(1) - 1
	if id >= stormIDs {
		return false
	}
	err := s.ev.Post(func() { s.run(id, depth) })
	switch {
	case err == nil:
		if s.accepted.Add(1) == s.acceptedAt {
			close(s.reached)
		}
		return true
	case !errors.Is(err, tevent.ErrClosed):
		s.badErr.CompareAndSwap(nil, err)
	}
	return false
}

func (s *postStorm) run(id int64, depth int) {
	if s.inFlight.Add(1) != 1 && !s.closing.Load() {
		s.overlap.Add(1)
	}
	s.runs[id].Add(1)
	if s.ran.Add(1) == s.runAt && s.onRun != nil {
		s.closing.Store(true)
		s.onRun()
		s.closing.Store(false)
	}
	// Posts that post: from the loop goroutine, during the storm and, for
	// the ones run by Close itself, during teardown (they get ErrClosed).
	if depth < 3 && id%3 == 0 {
		s.post(depth + 1)
		s.post(depth + 1)
	}
	s.inFlight.Add(-1)
}

// Post storms from 64 goroutines while the context is closed, with Close
// called from another goroutine, from three goroutines at once, or from
// inside a posted function: every Post either returns nil and its function
// runs exactly once, or returns ErrClosed; no two posted functions run at
// once; nothing runs after Done is closed (each closer notes the run
// count once Done is closed, and it never moves again); the loop returns
// nil; no goroutine is left.
func TestStressPostStormDuringClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		for _, how := range []string{"outside", "three-closers", "inside"} {
			t.Run(how, func(t *testing.T) {
				ev := ctxOn(t, backend)
				// Keeps LoopWait running while the queue is empty; Close
				// removes it.
				ev.AddTimer(ev.Now().Add(time.Hour), func(*tevent.Timer, time.Time) {})
				s := &postStorm{t: t, ev: ev, runs: make([]atomic.Uint32, stormIDs),
					acceptedAt: 20000, runAt: 2000, reached: make(chan struct{})}

				// atClose[i] is the run count when closer i's Close returned.
				var atClose []*atomic.Int64
				closeErrs := make(chan error, 3)
				// A Close from another goroutine does not wait for the
				// teardown: each closer notes the count once Done is
				// closed. The one inside a posted function cannot wait
				// (the teardown waits for it): the test notes it after
				// the loop returned.
				closeFrom := func() {
					err := ev.Close()
					if how != "inside" {
						<-ev.Done()
						n := &atomic.Int64{}
						n.Store(s.ran.Load())
						atClose = append(atClose, n)
					}
					closeErrs <- err
				}
				var closers sync.WaitGroup
				if how == "inside" {
					s.onRun = closeFrom // on the loop goroutine
				}

				// The loop must be running before Close: LoopWait on a
				// context already closed returns ErrClosed, as documented.
				loopDone := make(chan error, 1)
				started := make(chan struct{})
				ev.ScheduleImmediate(func() { close(started) })
				go func() { loopDone <- ev.LoopWait() }()
				<-started
				var posters sync.WaitGroup
				for range 64 {
					posters.Add(1)
					go func() {
						defer posters.Done()
						for s.post(0) {
						}
					}()
				}
				if how != "inside" { // that closer closes by itself
					select {
					case <-s.reached:
					case <-time.After(ioTimeout):
						t.Fatalf("only %d posts accepted", s.accepted.Load())
					}
				}
				switch how {
				case "outside":
					closeFrom()
				case "three-closers":
					var mu sync.Mutex
					for range 3 {
						closers.Add(1)
						go func() {
							defer closers.Done()
							err := ev.Close()
							<-ev.Done()
							n := &atomic.Int64{}
							n.Store(s.ran.Load())
							mu.Lock()
							atClose = append(atClose, n)
							mu.Unlock()
							closeErrs <- err
						}()
					}
				}
				posters.Wait()
				closers.Wait()
				if err := <-loopDone; err != nil {
					t.Errorf("LoopWait: %v", err)
				}
				if how == "inside" {
					<-ev.Done()
					n := &atomic.Int64{}
					n.Store(s.ran.Load())
					atClose = append(atClose, n)
				}
				for range len(atClose) {
					if err := <-closeErrs; err != nil {
						t.Errorf("Close: %v", err)
					}
				}
				if err, _ := s.badErr.Load().(error); err != nil {
					t.Errorf("Post: %v, want nil or ErrClosed", err)
				}
				final := s.ran.Load()
				for i, n := range atClose {
					if n.Load() != final {
						t.Errorf("closer %d: %d posted functions ran after Done was closed", i, final-n.Load())
					}
				}
				if n := s.overlap.Load(); n > 0 {
					t.Errorf("%d posted functions ran while another was running", n)
				}
				if a := s.accepted.Load(); a != final {
					t.Errorf("%d posts accepted, %d ran", a, final)
				}
				for id := range min(s.ids.Load(), stormIDs) {
					if n := s.runs[id].Load(); n > 1 {
						t.Fatalf("post %d ran %d times", id, n)
					}
				}
				t.Logf("%d posts accepted and run, %d refused", final, min(s.ids.Load(), stormIDs)-final)
			})
		}
	})
}
