package tqueue

import (
	"fmt"
	"syscall"
)

// Errors returned by this package. Test for them with errors.Is.
var (
	// ErrFull is the error of a request refused by a queue made with
	// [WithLimit] because it already held its limit of entries:
	// [Queue.Add], [Queue.AddOptimizeEmpty] and [WaitSend] then queue
	// nothing and fail the request with ErrFull through a later turn of the
	// loop. errors.Is(err, syscall.ENOBUFS) also holds.
	ErrFull = fmt.Errorf("tqueue: queue full: %w", syscall.ENOBUFS)
)
