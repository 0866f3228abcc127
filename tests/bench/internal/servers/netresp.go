package servers

import (
	"errors"
	"net"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/demoserver"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
)

// serveRESP is the Go net version of the demo's RESP server: one goroutine
// per connection, the demo's own parser and store (cmd/tsocket-demo/resp),
// every complete command in the buffer executed and the replies written
// together, as the demo does with pipelined input.
// The store is shared by all connections of the process and guarded by
// respMu; on GOMAXPROCS=1 the lock is uncontended.
func serveRESP(c net.Conn) {
	in := make([]byte, 0, 4<<10)
	var out []byte
	var args [][]byte
	buf := make([]byte, DefaultBuf)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		in = append(in, buf[:n]...)
		quit := false
		respMu.Lock()
		for !quit {
			a, used, err := resp.Parse(in, args[:0])
			if err != nil {
				out = resp.AppendError(out, err)
				quit = true
				break
			}
			if used == 0 {
				break
			}
			if a != nil {
				out, quit = respStore.Exec(a, out)
				args = a[:0]
			}
			in = in[:copy(in, in[used:])]
		}
		respMu.Unlock()
		if len(in) > resp.MaxBuffer {
			out = resp.AppendError(out, demoserver.ErrBufferFull)
			quit = true
		}
		if len(out) > 0 {
			if _, err := c.Write(out); err != nil {
				return
			}
			out = out[:0]
		}
		if quit {
			return
		}
	}
}

func init() {
	register("net-resp", func(cfg Config) (Server, error) {
		cfg.Mode, cfg.TLS = RESP, nil
		return startNet(cfg)
	})
	// net-resp-tls is net-resp over crypto/tls: the same handler on the
	// *tls.Conn a tls.NewListener accepts.
	register("net-resp-tls", func(cfg Config) (Server, error) {
		if cfg.TLS == nil {
			return nil, errors.New("servers: net-resp-tls needs Config.TLS")
		}
		cfg.Mode = RESP
		return startNet(cfg)
	})
}
