package tlsio

import (
	"os"

	"github.com/gotevent/gotevent/internal/sys"
)

// The shim's socket calls: the descriptor is non-blocking, so sys.Read and
// sys.Send (which never raise SIGPIPE).
var (
	sysRead     = sys.Read
	sysSend     = sys.Send
	interrupted = sys.Interrupted
	wouldBlock  = sys.WouldBlock
)

func sysErr(call string, err error) error { return os.NewSyscallError(call, err) }
