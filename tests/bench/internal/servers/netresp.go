package servers

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/demoserver"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
)

// bigArg is the length past which net-resp reads a bulk string straight
// into a buffer of its own with io.ReadFull rather than wait for its
// command whole in the bufio.Reader: a value that does not fit there.
const bigArg = DefaultBuf

// serveRESP is the Go net version of the demo's RESP server, written as a
// competent net+bufio server would be: one goroutine per connection, a
// bufio.Reader of DefaultBuf bytes, the demo's own parser and store
// (cmd/tsocket-demo/resp). Every complete command the reader buffers runs
// where it lies and the replies of the batch are written together before
// the next read blocks, as the demo does with pipelined input. A command
// that does not fit is read argument by argument: a bulk string longer
// than bigArg is read with io.ReadFull into a buffer of its own, which the
// store keeps as the value without a copy (Store.ExecOwned).
// The store is shared by all connections of the process and guarded by
// respMu; on GOMAXPROCS=1 the lock is uncontended.
func serveRESP(c net.Conn) {
	r := bufio.NewReaderSize(c, DefaultBuf)
	var out []byte
	var args [][]byte
	var p resp.Parser
	for {
		buf, _ := r.Peek(r.Buffered())
		pos, quit := 0, false
		respMu.Lock()
		for pos < len(buf) && !quit {
			a, used, err := p.Parse(buf[pos:], args[:0])
			if err != nil {
				out, quit = resp.AppendError(out, err), true
				break
			}
			if used == 0 {
				break
			}
			if a != nil {
				out, quit = respStore.Exec(a, out)
				args = a[:0]
			}
			pos += used
		}
		respMu.Unlock()
		clear(args[:cap(args)]) // nothing keeps the reader's buffer
		if _, err := r.Discard(pos); err != nil {
			return
		}
		took := false
		if !quit {
			var err error
			out, took, quit, err = takeApart(c, r, p, out)
			if err != nil {
				return
			}
			if !quit && r.Buffered() == r.Size() {
				// An inline command longer than the reader.
				out, quit = resp.AppendError(out, demoserver.ErrBufferFull), true
			}
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
		if pos > 0 || took {
			continue // what follows may be buffered already
		}
		// Block for more input only once the replies are out.
		if _, err := r.Peek(r.Buffered() + 1); err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// takeApart reads the incomplete command at the front of r argument by
// argument when waiting for it whole would not do: its next bulk string is
// longer than bigArg, or it fills the reader. Its replies go to out first:
// the read may block. took says whether it ran a command: it does nothing
// when neither holds.
func takeApart(c net.Conn, r *bufio.Reader, p resp.Parser, out []byte) (_ []byte, took, quit bool, err error) {
	buf, _ := r.Peek(r.Buffered())
	part, ok, err := p.Start(buf, nil)
	switch {
	case err != nil:
		return resp.AppendError(out, err), false, true, nil
	case !ok || part.Next <= bigArg && r.Buffered() < r.Size():
		return out, false, false, nil
	}
	if len(out) > 0 {
		if _, err := c.Write(out); err != nil {
			return out, false, false, err
		}
		out = out[:0]
	}
	var args [][]byte
	for {
		for _, a := range part.Args {
			args = append(args, bytes.Clone(a))
		}
		if _, err := r.Discard(part.Used); err != nil {
			return out, false, false, err
		}
		left := part.Left
		if left > 0 && part.Next >= 0 {
			if _, err := r.Discard(part.NextHeader); err != nil {
				return out, false, false, err
			}
			v := make([]byte, part.Next+2)
			if _, err := io.ReadFull(r, v); err != nil {
				return out, false, false, err
			}
			n := len(v) - 2
			if v[n] != '\r' || v[n+1] != '\n' {
				return resp.AppendError(out, fmt.Errorf("%w: bulk string not followed by CRLF", resp.ErrProtocol)), false, true, nil
			}
			args = append(args, v[:n:n])
			left--
		}
		if left == 0 {
			break
		}
		// The next header line, or more of a short argument.
		if buf, _ = r.Peek(r.Buffered()); len(buf) == 0 || !partialFits(p, buf, left) {
			if _, err := r.Peek(r.Buffered() + 1); err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				return out, false, false, err
			}
			buf, _ = r.Peek(r.Buffered())
		}
		if part, err = p.More(buf, left, nil); err != nil {
			return resp.AppendError(out, err), false, true, nil
		}
	}
	respMu.Lock()
	out, quit = respStore.ExecOwned(args, out)
	respMu.Unlock()
	return out, true, quit, nil
}

// partialFits reports whether buf holds at least the next header line of
// the command being taken apart, so that More makes progress.
func partialFits(p resp.Parser, buf []byte, left int) bool {
	part, err := p.More(buf, left, nil)
	return err != nil || len(part.Args) > 0 || part.Next >= 0
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
