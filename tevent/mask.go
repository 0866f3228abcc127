package tevent

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
)

// MaskFunc is the callback of a MaskEvent. It runs on the loop goroutine
// with the conditions the fd is ready for (a subset of the mask it asked
// for, or the mask given to ScheduleEventAndDispatch) and the loop's clock
// reading, and returns the mask it wants next: FDRead, FDWrite, FDError or a
// combination to be called again when the fd is ready for it, or 0 to free
// the event. Freeing takes the event out of the loop but leaves the fd open.
//
// The returned mask is ignored when the callback has taken the event out of
// the loop itself, by Suspend or Close; the loop never touches an event
// after that, so an event can never be freed from under the loop.
type MaskFunc func(e *MaskEvent, mask Flags, now time.Time) Flags

// maskState is where a MaskEvent is in its life. It is only read and
// written on the loop goroutine.
type maskState uint8

const (
	maskBuilt     maskState = iota // built, never scheduled
	maskScheduled                  // in the loop, waiting for its mask
	maskSuspended                  // holds its fd out of the loop until resumed
	maskFreed                      // its MaskFunc returned 0, or re-arming failed
	maskMoved                      // Suspend handed the fd to a duplicate
	maskClosed                     // Close closed the fd
)

func (s maskState) String() string {
	switch s {
	case maskBuilt:
		return "built"
	case maskScheduled:
		return "scheduled"
	case maskSuspended:
		return "suspended"
	case maskFreed:
		return "freed"
	case maskMoved:
		return "moved to its suspended duplicate"
	case maskClosed:
		return "closed"
	}
	return fmt.Sprintf("maskState(%d)", uint8(s))
}

// maskSlot is the FD handler of a mask event. Suspend points it at the
// duplicate, so the registration (and the fd number's place in the context)
// moves to the duplicate without being removed and added again.
type maskSlot struct{ ev *MaskEvent }

func (s *maskSlot) handle(_ *FD, flags Flags) { s.ev.dispatch(flags) }

// MaskEvent is an fd event in the callback-mask style of Momentum
// (ecelerity): its MaskFunc returns the mask it wants next instead of
// changing the event's flags, so a protocol is written as one function that
// does what it can and says what it is waiting for:
//
//	func serve(e *tevent.MaskEvent, mask tevent.Flags, now time.Time) tevent.Flags {
//		s := e.Closure().(*session)
//		line, need, err := e.ReadUntil([]byte("\r\n"), &s.in)
//		if err == unix.EAGAIN {
//			return need // FDRead: call me when more input arrives
//		}
//		...
//	}
//
// # Life of an event
//
// [Context.BuildFDEvent] makes an event for an fd; [Context.ScheduleEvent] puts
// it in the loop, where it holds the fd's one event slot (an fd has at most
// one scheduled event, mask event or AddFD event, on a context: [ErrFDBusy]).
// Each time the fd is ready for part of the mask, the MaskFunc runs and its
// result becomes the new mask; 0 frees the event: it leaves the loop for
// good (ScheduleEvent refuses it) and the fd stays open, owned by the
// caller, who may still close it through the event. [MaskEvent.Close] takes the event
// out of the loop and closes the fd; it is safe inside the event's own
// callback, and the callback's return value is then ignored.
//
// Dispatch is level-triggered, as for every fd event: input the callback
// leaves unread, or a socket still writable, is reported again on the next
// iteration, so a callback may do a bounded amount of work per call and a
// flip-flop protocol (write a request, then read the reply, then write
// again) never stalls waiting for an edge. Two things are not in the
// socket and so are never reported: records ReadUntil has already buffered
// in a [LineState] (call [MaskEvent.ReadUntil] until it returns unix.EAGAIN before asking
// for FDRead) and output the callback has not written yet.
//
// Trying the read at once after a write completes, instead of returning
// FDRead, is still worth doing: when the peer answers quickly the reply is
// often there already, and reading it now saves a wait and a dispatch per
// exchange. It is an optimisation, not a correctness rule; EAGAIN simply
// says to return FDRead.
//
// # Suspend and resume
//
// [MaskEvent.Suspend] takes the fd out of the loop without giving up its event slot
// and returns a duplicate event that owns it from then on; the original is
// spent. The duplicate is handed to other code, typically with
// [Context.QueueAsyncJob], which runs blocking work on the context's worker
// pool and then resumes the duplicate on the loop with
// [Context.ScheduleEventAndDispatch]: the MaskFunc runs at once with the
// given mask, without waiting for readiness, and its result becomes the
// mask as usual. A suspended event keeps the loop running (LoopWait does not
// return while one exists), since a resume may arrive from any goroutine at
// any time; Close it if it will never be resumed.
//
// # Ownership
//
// A MaskEvent belongs to its context's loop goroutine: its MaskFunc runs
// there, and ScheduleEvent, Suspend and Close are called there (callbacks
// must not block). [MaskEvent.Read], [MaskEvent.Write], [MaskEvent.IOWrite],
// [MaskEvent.IORetry], [MaskEvent.IORead] and ReadUntil only
// use the fd and the state passed to them, so whichever goroutine currently
// holds the event may call them, one goroutine at a time: a job may do I/O
// on the suspended event it was handed until it returns. Closure and Fd may
// be called anywhere. When the context is closed its mask events are removed
// with every other event, and their fds are left open.
type MaskEvent struct {
	c       *Context
	fd      int
	fn      MaskFunc
	closure any
	mask    Flags // what the event waits for (while scheduled) or last waited for

	slot  *maskSlot
	fde   *FD // the registration, while scheduled or suspended
	state maskState
	err   error // why the loop freed the event, if it was not its MaskFunc

	// resumable is set by Suspend and cleared by whoever takes the right to
	// resume the event (ScheduleEventAndDispatch, QueueAsyncJob,
	// ScheduleEvent), so that exactly one resume can happen, from any
	// goroutine.
	resumable atomic.Bool

	notSock  bool // Write learned the fd is not a socket: use write(2)
	nonblock int8 // 1: the fd is non-blocking, -1: it is not, 0: not asked yet

	tls *maskTLS // StartTLS: I/O goes through crypto/tls
}

// BuildFDEvent makes a callback-mask event for fd (Momentum's
// build_fd_event); it is not in the loop until ScheduleEvent. mask is what
// the event waits for once scheduled, fn the callback, and closure any value
// the callback wants back through e.Closure. The caller keeps ownership of
// fd, which should be non-blocking: freeing the event leaves it open,
// e.Close closes it. Errors (a nil fn, an empty or unknown mask) are
// reported by ScheduleEvent.
func (c *Context) BuildFDEvent(fd int, mask Flags, fn MaskFunc, closure any) *MaskEvent {
	e := &MaskEvent{c: c, fd: fd, fn: fn, closure: closure, mask: mask}
	e.slot = &maskSlot{ev: e}
	return e
}

// ScheduleEvent puts e in the loop, waiting for its mask (schedule_event).
// It returns ErrFDBusy if the fd already has an event on the context,
// including e itself when it is already scheduled, and ErrClosed after
// Close. On an event suspended by Suspend (and not handed to a job or a
// pending ScheduleEventAndDispatch) it puts the event back in the loop
// waiting for the mask it had, without calling it. A freed, closed or spent
// event cannot be scheduled again: build a new one. Call it on the loop
// goroutine.
func (c *Context) ScheduleEvent(e *MaskEvent) error {
	if e == nil {
		return fmt.Errorf("tevent: ScheduleEvent of a nil event: %w", syscall.EINVAL)
	}
	if e.c != c {
		return fmt.Errorf("tevent: ScheduleEvent(%d): event belongs to another context: %w", e.fd, syscall.EINVAL)
	}
	if c.closed.Load() {
		return ErrClosed
	}
	switch e.state {
	case maskBuilt:
	case maskScheduled:
		return fmt.Errorf("tevent: ScheduleEvent(%d): already scheduled: %w", e.fd, ErrFDBusy)
	case maskSuspended:
		if !e.resumable.CompareAndSwap(true, false) {
			return fmt.Errorf("tevent: ScheduleEvent(%d): a resume is already under way: %w", e.fd, ErrFDBusy)
		}
		if err := e.fde.SetFlags(e.mask); err != nil {
			e.resumable.Store(true)
			return err
		}
		e.state = maskScheduled
		return nil
	default:
		return fmt.Errorf("tevent: ScheduleEvent(%d): event is %v: %w", e.fd, e.state, syscall.EINVAL)
	}
	if e.fn == nil {
		return fmt.Errorf("tevent: ScheduleEvent(%d): nil MaskFunc: %w", e.fd, syscall.EINVAL)
	}
	if e.mask == 0 {
		return fmt.Errorf("tevent: ScheduleEvent(%d): empty mask: %w", e.fd, syscall.EINVAL)
	}
	fde, err := c.AddFD(e.fd, e.mask, e.slot.handle)
	if err != nil {
		return err
	}
	e.fde = fde
	e.state = maskScheduled
	return nil
}

// ScheduleEventAndDispatch resumes e, an event returned by Suspend, on the
// loop (schedule_event_and_dispatch): it puts e back in the loop and runs its
// MaskFunc at once with mask, without waiting for the fd to be ready; the
// callback's result becomes e's mask as usual. It is safe from any
// goroutine: the resume goes through Post and happens on a later loop
// iteration.
//
// It returns an error wrapping syscall.EINVAL if e is not suspended, belongs
// to another context, or has already been handed to a resume or a job (an
// event is resumed once per Suspend), and ErrClosed once Close has begun. If
// the context is closed before the resume runs, e is not dispatched: it is
// removed with the context's other events and its fd stays open.
func (c *Context) ScheduleEventAndDispatch(e *MaskEvent, mask Flags) error {
	if err := c.claimResume("ScheduleEventAndDispatch", e, mask); err != nil {
		return err
	}
	if err := c.Post(func() { e.resume(mask) }); err != nil {
		if errors.Is(err, ErrClosed) {
			e.resumable.Store(true) // not queued: the caller still holds it
		}
		return err
	}
	return nil
}

// claimResume checks e and mask and takes the right to resume e. It only
// reads fields that are immutable once built, and the resumable flag.
func (c *Context) claimResume(op string, e *MaskEvent, mask Flags) error {
	if e == nil {
		return fmt.Errorf("tevent: %s of a nil event: %w", op, syscall.EINVAL)
	}
	if e.c != c {
		return fmt.Errorf("tevent: %s(%d): event belongs to another context: %w", op, e.fd, syscall.EINVAL)
	}
	if mask&^allFlags != 0 {
		return fmt.Errorf("tevent: %s(%d): unknown flags %v: %w", op, e.fd, mask, syscall.EINVAL)
	}
	if c.closed.Load() {
		return ErrClosed
	}
	if !e.resumable.CompareAndSwap(true, false) {
		return fmt.Errorf("tevent: %s(%d): event is not suspended, or already being resumed: %w", op, e.fd, syscall.EINVAL)
	}
	return nil
}

// resume runs on the loop goroutine for a claimed resume. The event may have
// been closed since; a resume that runs during Close does nothing.
func (e *MaskEvent) resume(mask Flags) {
	if e.state != maskSuspended || e.c.closed.Load() {
		return
	}
	e.state = maskScheduled
	e.dispatch(mask)
}

// dispatch calls the MaskFunc and applies the mask it returns, unless the
// callback took the event out of the loop itself.
func (e *MaskEvent) dispatch(flags Flags) {
	if e.state != maskScheduled {
		return
	}
	next := e.fn(e, flags, e.c.clock.Now())
	if e.state != maskScheduled {
		return // suspended, closed or freed inside the callback
	}
	if next&^allFlags != 0 {
		e.free(fmt.Errorf("tevent: MaskFunc for fd %d returned unknown flags %v: %w", e.fd, next, syscall.EINVAL))
		return
	}
	if next == 0 {
		e.free(nil)
		return
	}
	e.mask = next
	if err := e.fde.SetFlags(next); err != nil { // no syscall when unchanged
		e.free(err)
	}
}

// free takes a scheduled event out of the loop and leaves the fd open.
func (e *MaskEvent) free(err error) {
	e.fde.Remove()
	e.fde = nil
	e.state = maskFreed
	e.err = err
}

// Suspend takes e out of the loop and returns a duplicate that owns its fd
// from now on; e itself is spent, and the value its
// callback returns, if Suspend was called inside it, is ignored. The
// duplicate keeps the fd's event slot, mask, callback and closure, but is
// not called for readiness until it is resumed by ScheduleEventAndDispatch
// (from any goroutine), by QueueAsyncJob when its job finishes, or by
// ScheduleEvent on the loop. Suspend returns nil if e is not scheduled.
// Call it on the loop goroutine.
func (e *MaskEvent) Suspend() *MaskEvent {
	if e.state != maskScheduled {
		return nil
	}
	dup := &MaskEvent{
		c:        e.c,
		fd:       e.fd,
		fn:       e.fn,
		closure:  e.closure,
		mask:     e.mask,
		slot:     e.slot,
		fde:      e.fde,
		state:    maskSuspended,
		notSock:  e.notSock,
		nonblock: e.nonblock,
		tls:      e.tls,
	}
	if dup.tls != nil {
		dup.tls.e = dup
	}
	e.slot.ev = dup
	e.fde = nil
	e.state = maskMoved
	// Flags 0 takes the fd out of the wait but keeps the registration, so
	// nothing else can take the fd number meanwhile and the loop stays
	// alive for the resume. It cannot fail: a failed removal from the
	// backend means the fd is not in it anyway.
	_ = dup.fde.SetFlags(0)
	dup.resumable.Store(true)
	return dup
}

// Close takes e out of the loop and closes its fd (event_close). It is
// safe inside e's own callback, whose return value is then ignored, and on a
// suspended event held by a job: the job's resume then does nothing. Such a
// job must not do I/O on the event, since the fd number may be reused as
// soon as it is closed.
// Closing twice returns nil. Closing an event spent by Suspend is an error
// wrapping syscall.EINVAL: its duplicate owns the fd. Call it on the loop
// goroutine.
func (e *MaskEvent) Close() error {
	switch e.state {
	case maskClosed:
		return nil
	case maskMoved:
		return fmt.Errorf("tevent: Close(%d): event was suspended; close the duplicate Suspend returned: %w", e.fd, syscall.EINVAL)
	case maskScheduled, maskSuspended:
		e.fde.Remove()
		e.fde = nil
	}
	e.state = maskClosed
	e.resumable.Store(false)
	if mt := e.tls; mt != nil {
		if mt.ready {
			mt.closeNotify()
		} else {
			mt.stop() // its goroutine must not outlive the fd
		}
	}
	if err := sys.Close(e.fd); err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}

// Closure returns the value given to BuildFDEvent (a suspended duplicate
// has its original's).
func (e *MaskEvent) Closure() any { return e.closure }

// Fd returns the event's descriptor.
func (e *MaskEvent) Fd() int { return e.fd }

// Context returns the context the event belongs to.
func (e *MaskEvent) Context() *Context { return e.c }

// Mask returns what the event waits for while scheduled, or waited for last.
func (e *MaskEvent) Mask() Flags { return e.mask }

// Err returns why the loop freed the event when its MaskFunc did not ask
// for it: the MaskFunc returned unknown flags, or the backend refused the
// new mask (for example because the fd was closed behind the event's back).
// It is nil otherwise. Call it on the loop goroutine.
func (e *MaskEvent) Err() error { return e.err }
