package tsocket

import "github.com/gotevent/gotevent/tevent"

// fdReg is a socket's one fd event. It exists only while some request needs
// the socket to be readable or writable: an idle socket holds no event, so
// Context.LoopWait returns once only idle sockets remain. A callback that
// finishes one read and starts the next (the usual pattern) costs no
// epoll_ctl at all: see set.
type fdReg struct {
	ev        *tevent.Context
	fde       *tevent.FD
	h         tevent.FDHandler
	fd        int
	want      tevent.Flags
	inHandler bool

	// An event no longer wanted is removed by an immediate on the next
	// iteration rather than at once: a callback that ends one request and
	// starts the next, even from a Post, then costs no epoll_ctl, and the
	// removal still happens before the loop waits again.
	idlePending bool
	idleCheck   func()
}

func (r *fdReg) init(ev *tevent.Context, fd int, h tevent.FDHandler) {
	*r = fdReg{ev: ev, fd: fd, h: h}
	r.idleCheck = r.removeIfIdle
}

func (r *fdReg) removeIfIdle() {
	r.idlePending = false
	if r.want == 0 && r.fde != nil {
		r.fde.Remove()
		r.fde = nil
	}
}

// waiting reports whether the loop is already watching for flags f, so
// that trying the syscall first would only cost an EAGAIN: the wait
// reports the fd at once if it is ready (level-triggered).
func (r *fdReg) waiting(f tevent.Flags) bool {
	return r.fde != nil && r.fde.Flags()&f != 0
}

// set asks for flags f. Inside a loop call tevent defers the change to
// the backend until the loop next waits (a loop nested in a callback
// included), so a callback that finishes one read and starts the next
// costs no epoll_ctl. Dropping to no interest inside the socket's own
// handler only records it: the handler's end applies it, after the
// callbacks it ran have queued theirs, so that a callback deferred by Post
// (a write done inside its Send) that starts the next read runs before
// the idle check, which then finds the socket still wanted.
func (r *fdReg) set(f tevent.Flags) error {
	r.want = f
	if f == 0 && r.inHandler {
		return nil
	}
	return r.apply()
}

// apply brings the event in line with want.
func (r *fdReg) apply() error {
	f := r.want
	switch {
	case r.fde == nil && f == 0:
		return nil
	case r.fde == nil:
		fde, err := r.ev.AddFD(r.fd, f, r.h)
		if err != nil {
			r.want = 0
			return err
		}
		r.fde = fde
		return nil
	case f == 0:
		if !r.idlePending {
			r.idlePending = true
			r.ev.ScheduleImmediate(r.idleCheck)
		}
		return nil
	}
	return r.fde.SetFlags(f)
}

// drop removes the event at once (before the fd is closed).
func (r *fdReg) drop() {
	r.want = 0
	if r.fde != nil {
		r.fde.Remove()
		r.fde = nil
	}
}

// use checks that a request on ev may use this socket, moving an idle
// socket to ev.
func (r *fdReg) use(ev *tevent.Context, busy bool) error {
	if ev == r.ev {
		return nil
	}
	if r.fde != nil || busy {
		return ErrWrongContext
	}
	r.ev = ev
	return nil
}
