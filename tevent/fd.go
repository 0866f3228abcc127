package tevent

import (
	"fmt"
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
	c          *Context
	fd         int
	gen        uint32
	flags      Flags
	h          FDHandler
	registered bool // known to the backend (flags != 0)
	removed    bool
	autoClose  bool
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
// (ErrFDBusy). The caller keeps ownership of fd unless SetAutoClose(true).
func (c *Context) AddFD(fd int, flags Flags, h FDHandler) (*FD, error) {
	if c.closed.Load() {
		return nil, ErrClosed
	}
	if fd < 0 {
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
	c.gen++
	if c.gen == 0 { // tag 0 belongs to the wake-up descriptor
		c.gen = 1
	}
	fde := &FD{c: c, fd: fd, gen: c.gen, flags: flags, h: h}
	if flags != 0 {
		if err := c.poller.Add(fd, fde.gen, interest(flags)); err != nil {
			return nil, fmt.Errorf("tevent: AddFD(%d): %w", fd, err)
		}
		fde.registered = true
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
// On a removed event it does nothing.
func (fde *FD) SetFlags(flags Flags) error {
	if fde.removed || flags == fde.flags {
		return nil
	}
	if flags&^allFlags != 0 {
		return fmt.Errorf("tevent: SetFlags(%d): unknown flags %v: %w", fde.fd, flags, syscall.EINVAL)
	}
	p := fde.c.poller
	var err error
	switch {
	case flags == 0:
		err = p.Del(fde.fd)
		fde.registered = false
	case !fde.registered:
		err = p.Add(fde.fd, fde.gen, interest(flags))
		fde.registered = err == nil
	default:
		err = p.Mod(fde.fd, fde.gen, interest(flags))
	}
	if err != nil && flags != 0 {
		return fmt.Errorf("tevent: SetFlags(%d, %v): %w", fde.fd, flags, err)
	}
	fde.flags = flags
	return nil
}

// Remove removes the event; safe inside any handler, its own included. An
// event removed while others from the same wait are still being dispatched
// is never called. With auto-close the fd is closed too. Removing twice does
// nothing.
func (fde *FD) Remove() {
	_ = fde.remove() // a failed close has no one to report to; the fd is gone either way
}

func (fde *FD) remove() error {
	if fde.removed {
		return nil
	}
	fde.removed = true
	c := fde.c
	if fde.registered {
		// The fd may already be closed by its owner (EBADF) or the kernel
		// may have dropped it (ENOENT); either way it is out of the set.
		_ = c.poller.Del(fde.fd)
		fde.registered = false
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
