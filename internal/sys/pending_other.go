//go:build unix && !darwin && !linux

package sys

import "golang.org/x/sys/unix"

// PendingBytesCall is the system call PendingBytes would make, for naming
// its errors.
const PendingBytesCall = "ioctl"

// PendingBytes fails with ENOTSUP (errors.Is(err, errors.ErrUnsupported)
// holds): the BSDs answer with ioctl FIONREAD, but x/sys/unix does not
// define FIONREAD for them and this package does not define constants of
// its own. Callers that only size a buffer with it keep their default.
func PendingBytes(fd int) (int, error) { return 0, unix.ENOTSUP }
