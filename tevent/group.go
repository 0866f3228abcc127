package tevent

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// Group runs several contexts, one per goroutine, each locked to its own OS
// thread: the way to use more than one core. Typically each loop gets its
// own listener on the same address (tsocket.ReusePort) and the kernel
// spreads connections across them; loops share nothing else.
//
// NewGroup creates the contexts; Start runs setup for each on its own loop
// goroutine and then runs the loops; Stop closes every context and waits
// for the goroutines to end; Wait waits without stopping. A Group's methods
// are called from the goroutine that created it.
type Group struct {
	evs     []*Context
	wg      sync.WaitGroup
	mu      sync.Mutex
	errs    []error
	started bool
	stopped bool
}

// NewGroup creates n contexts with opts.
func NewGroup(n int, opts ...Option) (*Group, error) {
	if n < 1 {
		return nil, fmt.Errorf("tevent: NewGroup(%d): need at least one loop", n)
	}
	g := &Group{}
	for range n {
		ev, err := NewContext(opts...)
		if err != nil {
			for _, ev := range g.evs {
				ev.Close()
			}
			return nil, err
		}
		g.evs = append(g.evs, ev)
	}
	return g, nil
}

// Contexts returns the group's contexts, one per loop.
func (g *Group) Contexts() []*Context { return g.evs }

// Start runs setup(i, ev) on each loop's goroutine, then runs that loop
// until it has no events left or is closed. If any setup fails, every loop
// is stopped and Start returns the setup errors; otherwise it returns once
// every setup has succeeded, with the loops running.
func (g *Group) Start(setup func(i int, ev *Context) error) error {
	if g.started {
		return errors.New("tevent: Group started twice")
	}
	g.started = true
	ready := make(chan error, len(g.evs))
	for i, ev := range g.evs {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			if err := setup(i, ev); err != nil {
				ready <- fmt.Errorf("loop %d: %w", i, err)
				return
			}
			ready <- nil
			if err := ev.Run(context.Background()); err != nil && !errors.Is(err, ErrClosed) {
				g.mu.Lock()
				g.errs = append(g.errs, fmt.Errorf("loop %d: %w", i, err))
				g.mu.Unlock()
			}
		}()
	}
	var errs []error
	for range g.evs {
		if err := <-ready; err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		g.Stop()
		return errors.Join(errs...)
	}
	return nil
}

// Stop closes every context (each loop runs its Close teardown and
// returns) and waits for the loop goroutines. It returns the errors the
// loops and Close reported. Stopping twice does nothing.
func (g *Group) Stop() error {
	if g.stopped {
		return nil
	}
	g.stopped = true
	var errs []error
	for _, ev := range g.evs {
		if err := ev.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	g.wg.Wait()
	g.mu.Lock()
	errs = append(errs, g.errs...)
	g.mu.Unlock()
	return errors.Join(errs...)
}

// Wait waits until every loop has ended by itself (no events left) and
// returns their errors; the contexts stay open until Stop.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(g.errs...)
}
