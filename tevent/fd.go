package tevent

import (
	"fmt"
	"math"
	"os"
	"syscall"

	"github.com/gotevent/gotevent/internal/poller"
	"github.com/gotevent/gotevent/internal/sys"
)

// FDHandler is called on the loop goroutine when fde's fd is ready for some
// of the flags it asks for; flags is never empty and never more than asked.
type FDHandler func(fde *FD, flags Flags)

// FD is an fd event (tevent_fd), created by Context.AddFD. It is
// level-triggered: a handler that consumes only part of the input is called
// again on the next iteration. Its methods are called on the loop goroutine.
type FD struct {
	c         *Context
	fd        int
	gen       uint32
	flags     Flags
	h         FDHandler
	kflags    Flags // what the backend watches; 0: not registered
	dirty     bool  // flags changed in a loop call, not yet applied
	removed   bool
	autoClose bool
}

// interest maps event flags to backend interest. FDError adds interest in
// the peer's shutdown; errors and hang-ups are reported by every backend
// whenever the fd is registered at all.
func interest(f Flags) uint32 {
	var i uint32
	if f&FDRead != 0 {
		i |= poller.In
	}
	if f&FDWrite != 0 {
		i |= poller.Out
	}
	if f&FDError != 0 {
		i |= poller.RDHup
	}
	return i
}

// deliver maps backend readiness to the flags a handler sees: a hang-up or
// error counts as readable and writable (the read or write returns it) and
// as an error, and only what was asked for is delivered.
func deliver(ready uint32, asked Flags) Flags {
	var f Flags
	if ready&poller.In != 0 {
		f |= FDRead
	}
	if ready&poller.Out != 0 {
		f |= FDWrite
	}
	if ready&(poller.Err|poller.Hup) != 0 {
		f |= FDRead | FDWrite | FDError
	}
	if ready&poller.RDHup != 0 {
		f |= FDError
	}
	return f & asked
}

// AddFD registers an fd event for fd (tevent_add_fd). h is called on the loop
// goroutine whenever fd is ready for any of flags. flags may be 0: the event
// then exists but is never called, even with a hang-up pending, until
// SetFlags asks for something. An fd has at most one event on a context
// (ErrFDBusy). A negative fd number, or one that is not open, is refused
// with an error wrapping EBADF, on every backend. The caller keeps
// ownership of fd unless SetAutoClose(true).
func (c *Context) AddFD(fd int, flags Flags, h FDHandler) (*FD, error) {
	if !c.hold() {
		return nil, ErrClosed
	}
	defer c.release()
	if fd < 0 || fd > math.MaxInt32 {
		return nil, fmt.Errorf("tevent: AddFD(%d): %w", fd, syscall.EBADF)
	}
	if flags&^allFlags != 0 {
		return nil, fmt.Errorf("tevent: AddFD(%d): unknown flags %v: %w", fd, flags, syscall.EINVAL)
	}
	if h == nil {
		return nil, fmt.Errorf("tevent: AddFD(%d): nil handler: %w", fd, syscall.EINVAL)
	}
	if int32(fd) == c.wakeFd || (fd < len(c.fds) && c.fds[fd] != nil) {
		return nil, fmt.Errorf("AddFD(%d): %w", fd, ErrFDBusy) // ErrFDBusy says "tevent: " already
	}
	// Checked here, not left to the backend: poll(2) takes any number and
	// reports POLLNVAL for ever, and the table below is indexed by it.
	if err := sys.CheckOpen(fd); err != nil {
		return nil, fmt.Errorf("tevent: AddFD(%d): %w", fd, os.NewSyscallError("fcntl", err))
	}
	c.gen++
	if c.gen == 0 { // tag 0 belongs to the wake-up descriptor
		c.gen = 1
	}
	fde := &FD{c: c, fd: fd, gen: c.gen, flags: flags, h: h}
	if flags != 0 {
		if err := c.poller.Add(fd, fde.gen, interest(flags)); err != nil {
			return nil, fmt.Errorf("tevent: AddFD(%d): %w", fd, err)
		}
		fde.kflags = flags
	}
	if fd >= len(c.fds) {
		n := max(2*len(c.fds), fd+1, 64)
		fds := make([]*FD, n)
		copy(fds, c.fds)
		c.fds = fds
	}
	c.fds[fd] = fde
	c.nfds++
	return fde, nil
}

// Fd returns the descriptor.
func (fde *FD) Fd() int { return fde.fd }

// Flags returns the flags the event asks for.
func (fde *FD) Flags() Flags { return fde.flags }

// SetAutoClose makes Remove (and Context.Close) close the fd as well.
func (fde *FD) SetAutoClose(v bool) { fde.autoClose = v }

// SetFlags changes what the event asks for (tevent_fd_set_flags). Flags 0
// keeps the event but takes the fd out of the wait, so it is never called.
// On a removed event, or after Close, it does nothing.
//
// Inside a loop call (in any handler) the change is recorded and reaches
// the backend right before the loop next waits, a nested loop's wait
// included; a handler that ends one request and starts the next on the same
// fd therefore costs no system call. If the backend then refuses it, the
// handler is called with every flag it asks for, so that its next read or
// write reports the errno. Between loop calls the change is made at once
// and its error returned.
func (fde *FD) SetFlags(flags Flags) error {
	if flags&^allFlags != 0 {
		return fmt.Errorf("tevent: SetFlags(%d): unknown flags %v: %w", fde.fd, flags, syscall.EINVAL)
	}
	c := fde.c
	if fde.removed || flags == fde.flags || !c.hold() {
		return nil
	}
	defer c.release()
	fde.flags = flags
	if c.loops > 0 {
		if !fde.dirty {
			fde.dirty = true
			c.dirty = append(c.dirty, fde)
		}
		return nil
	}
	return fde.apply()
}

// apply makes the backend watch what the event asks for.
func (fde *FD) apply() error {
	fde.dirty = false
	flags, p := fde.flags, fde.c.poller
	if flags == fde.kflags {
		return nil
	}
	var err error
	switch {
	case flags == 0:
		// Out of the set even if Del fails (the fd was closed behind
		// our back): there is nothing to ask the backend for.
		_ = p.Del(fde.fd)
		fde.kflags = 0
	case fde.kflags == 0:
		if err = p.Add(fde.fd, fde.gen, interest(flags)); err == nil {
			fde.kflags = flags
		}
	default:
		if err = p.Mod(fde.fd, fde.gen, interest(flags)); err == nil {
			fde.kflags = flags
		}
	}
	if err != nil {
		return fmt.Errorf("tevent: SetFlags(%d, %v): %w", fde.fd, flags, err)
	}
	return nil
}

// applyDirty applies the interest changes recorded since the last wait and
// returns the events whose change the backend refused.
func (c *Context) applyDirty() []*FD {
	if len(c.dirty) == 0 {
		return nil
	}
	var failed []*FD
	for i, fde := range c.dirty {
		c.dirty[i] = nil
		if !fde.dirty || fde.removed {
			continue
		}
		if fde.apply() != nil {
			failed = append(failed, fde)
		}
	}
	c.dirty = c.dirty[:0]
	return failed
}

// dispatchFailed calls the handlers of events whose interest change failed,
// with everything they ask for, and tries the change again before the next
// wait: the handler's I/O call reports the error, and it can stop asking.
func (c *Context) dispatchFailed(failed []*FD) bool {
	ran := false
	for _, fde := range failed {
		if c.closed.Load() {
			break
		}
		if fde.removed || fde.flags == 0 {
			continue
		}
		if !fde.dirty {
			fde.dirty = true
			c.dirty = append(c.dirty, fde)
		}
		ran = true
		fde.h(fde, fde.flags)
	}
	return ran
}

// Remove removes the event; safe inside any handler, its own included. An
// event removed while others from the same wait are still being dispatched
// is never called. With auto-close the fd is closed too. Removing twice,
// or after Close (which removed it), does nothing.
func (fde *FD) Remove() {
	if !fde.c.hold() {
		return
	}
	defer fde.c.release()
	// A failed close has no one to report to, and the fd is gone either
	// way (close is never retried: the number may already be reused).
	_ = fde.remove()
}

func (fde *FD) remove() error {
	if fde.removed {
		return nil
	}
	fde.removed = true
	c := fde.c
	if fde.kflags != 0 {
		// The fd may already be closed by its owner (EBADF) or the kernel
		// may have dropped it (ENOENT); either way it is out of the set.
		_ = c.poller.Del(fde.fd)
		fde.kflags = 0
	}
	if fde.fd < len(c.fds) && c.fds[fde.fd] == fde {
		c.fds[fde.fd] = nil
		c.nfds--
	}
	if fde.autoClose {
		if err := sys.Close(fde.fd); err != nil {
			return os.NewSyscallError("close", err)
		}
	}
	return nil
}
