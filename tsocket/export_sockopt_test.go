package tsocket

// TCPKeepIdle is the option SetKeepAlive sets for the idle time, which
// differs by system (TCP_KEEPALIVE on darwin).
const TCPKeepIdle = sysTCPKeepIdle
