package tevent

import (
	"errors"
	"os"
	"os/signal"
	"slices"
	"sync/atomic"
)

// SignalHandler is called on the loop goroutine with the signal and how many
// times it arrived since the handler last ran.
type SignalHandler func(sig os.Signal, count int)

// Signal is a signal event (tevent_signal), created by Context.AddSignal.
type Signal struct {
	c       *Context
	sig     os.Signal
	h       SignalHandler
	count   atomic.Int64
	ch      chan os.Signal
	stop    chan struct{}
	done    chan struct{}
	removed bool
}

// AddSignal delivers sig inside the loop: h runs on the loop goroutine with
// the number of arrivals since it last ran (several arrivals between two
// iterations coalesce into one call). While any Signal for sig exists, the
// process no longer takes sig's default action. Each Signal has one small
// goroutine that forwards the runtime's notification to the loop; Remove
// and Close end it.
func (c *Context) AddSignal(sig os.Signal, h SignalHandler) (*Signal, error) {
	if !c.hold() {
		return nil, ErrClosed
	}
	defer c.release()
	if sig == nil || h == nil {
		return nil, errors.New("tevent: AddSignal needs a signal and a handler")
	}
	s := &Signal{
		c:    c,
		sig:  sig,
		h:    h,
		ch:   make(chan os.Signal, 64),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	signal.Notify(s.ch, sig)
	go s.forward()
	c.signals = append(c.signals, s)
	return s, nil
}

func (s *Signal) forward() {
	defer close(s.done)
	for {
		select {
		case <-s.ch:
			s.count.Add(1)
			s.c.sigPending.Store(true)
			s.c.wake()
		case <-s.stop:
			return
		}
	}
}

// Remove stops delivery of the signal to this handler; safe inside any
// handler, its own included. Removing twice, or after Close (which removed
// it), does nothing.
func (s *Signal) Remove() {
	c := s.c
	if s.removed || !c.hold() {
		return
	}
	defer c.release()
	s.stopForward()
	for i, x := range c.signals {
		if x == s {
			c.signals = slices.Delete(c.signals, i, i+1)
			break
		}
	}
}

// stopForward ends delivery and the forwarding goroutine.
func (s *Signal) stopForward() {
	if s.removed {
		return
	}
	s.removed = true
	signal.Stop(s.ch)
	close(s.stop)
	<-s.done
}

func (c *Context) runSignals() bool {
	c.sigPending.Store(false)
	run := append(c.sigRun[:0], c.signals...)
	if c.nested > 1 {
		run = slices.Clone(c.signals) // the outer iteration is walking sigRun
	} else {
		c.sigRun = run
	}
	ran := false
	for i, s := range run {
		run[i] = nil
		if s.removed || c.closed.Load() {
			continue
		}
		if n := s.count.Swap(0); n > 0 {
			ran = true
			s.h(s.sig, int(n))
		}
	}
	return ran
}
