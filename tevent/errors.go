package tevent

import (
	"errors"
	"syscall"

	"github.com/gotevent/gotevent/internal/errno"
)

// Errors returned by this package. Test for them with errors.Is.
var (
	// ErrNoEvents is returned by LoopOnce (and Poll) when nothing is
	// registered, so waiting could never end.
	ErrNoEvents = errors.New("tevent: no events registered")

	// ErrClosed is returned by Post, the loop functions and event
	// registration once the context has been closed.
	ErrClosed = errors.New("tevent: context closed")

	// ErrTimedOut is the error of a request whose end time passed while it
	// was in progress (see Req.SetEndTime). errors.Is(err,
	// syscall.ETIMEDOUT) also holds.
	ErrTimedOut error = errno.New("tevent: request timed out", syscall.ETIMEDOUT)

	// ErrCancelled is the error of a request finished by Cancel.
	// errors.Is(err, syscall.ECANCELED) also holds.
	ErrCancelled error = errno.New("tevent: request cancelled", syscall.ECANCELED)

	// ErrFDBusy is returned when an fd already has an event on this context:
	// one fd event (AddFD) or scheduled mask event per fd.
	// errors.Is(err, syscall.EBUSY) also holds.
	ErrFDBusy error = errno.New("tevent: fd already has an event", syscall.EBUSY)

	// ErrInProgress is returned by Recv on a request that has not finished.
	ErrInProgress = errors.New("tevent: request still in progress")

	// ErrRecordTooLong is returned (wrapped) by MaskEvent.ReadUntil, and by
	// tsocket.ReadUntilRecv, when no delimiter ends a record within the
	// limit. The stream stays usable: the next read skips the rest of the
	// record, up to and including its delimiter. errors.Is(err,
	// syscall.EMSGSIZE) also holds.
	ErrRecordTooLong error = errno.New("tevent: record too long", syscall.EMSGSIZE)
)
