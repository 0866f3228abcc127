package tsocket

import "github.com/gotevent/gotevent/internal/sys"

// TCPKeepIdle is the option SetKeepAlive sets for the idle time, which
// differs by system (TCP_KEEPALIVE on darwin).
const TCPKeepIdle = sys.TCPKeepIdle
