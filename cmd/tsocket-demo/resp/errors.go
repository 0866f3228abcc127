package resp

import (
	"errors"
	"fmt"
)

// ErrProtocol is wrapped by every RESP parse error; the server answers with
// "-ERR Protocol error: ..." and closes the connection, as Redis does. Test
// for it with errors.Is.
//
//lint:ignore ST1005 Redis spells the reply this way and clients match on it.
var ErrProtocol = errors.New("Protocol error")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}
