package tsocket

import (
	"crypto/tls"
	"errors"
	"io"

	"github.com/gotevent/gotevent/internal/tlsio"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// tlsTransport is a TLS stream's transport (tstream_tls): crypto/tls over
// the socket, called by the loop once the handshake is done. The shim
// under the tls.Conn reads and writes the socket directly and turns EAGAIN
// into a temporary error that crypto/tls survives (internal/tlsio).
//
// Two things a socket never does, TLS does: hold input above the
// descriptor (the rest of a record crypto/tls has decrypted, or whole
// records it read in one go), which no readiness report will announce;
// and hold output the socket did not take, which must be written before a
// write counts as done. buffered and flush tell the engines.
type tlsTransport struct {
	conn *tls.Conn
	sh   *tlsio.Shim
	// more is set when the last read filled its buffer, or crypto/tls may
	// hold whole records still (the shim's HoldsInput): then it may hold
	// more, whatever the socket says. A read that ran dry clears it, so it
	// costs at most one read that finds nothing.
	more   bool
	rw, ww tevent.Flags // what the last EAGAIN of a read or a write waits for
	closed bool         // close_notify sent
	buf    []byte       // gathers small buffers of a writev into one record (plaintext, cleared after use)
}

// tlsMaxWrite is the most plaintext one write hands crypto/tls: a TLS
// record's worth, so that the ciphertext the socket may not take stays
// bounded and small writes are gathered into one record.
const tlsMaxWrite = 16 << 10

func (t *tlsTransport) read(b []byte) (int, error) {
	// Output first: a read may owe the peer an answer (a KeyUpdate).
	if _, err := t.sh.Flush(); err != nil {
		return 0, err
	}
	got := 0
	for got < len(b) {
		n, err := t.conn.Read(b[got:])
		got += n
		switch {
		case err == nil && got < len(b) && !t.sh.HoldsInput():
			// crypto/tls took less than offered and holds no whole
			// record: the rest is in the socket, which the loop
			// watches. Asking crypto/tls again would cost a read that
			// can only say EAGAIN.
			t.more = false
			return got, nil
		case err == nil:
			continue
		case errors.Is(err, tlsio.ErrWouldBlock):
			t.more = false
			if got > 0 {
				return got, nil
			}
			t.rw = tevent.FDRead
			if t.sh.Pending() {
				t.rw |= tevent.FDWrite
			}
			return 0, unix.EAGAIN
		case err == io.EOF:
			t.more = false
			return got, nil // 0 is the end of the stream; crypto/tls says EOF again
		default:
			t.more = false
			if got > 0 {
				return got, nil // crypto/tls keeps the error for the next read
			}
			return 0, err
		}
	}
	t.more = true
	return got, nil
}

func (t *tlsTransport) readv(iov [][]byte, off int) (n, want int, err error) {
	for i, b := range iov {
		if i == 0 {
			b = b[off:]
		}
		if len(b) == 0 {
			continue
		}
		want += len(b)
		k, err := t.read(b)
		n += k
		if err != nil || k < len(b) {
			if n > 0 {
				err = nil
			}
			return n, want, err
		}
	}
	return n, want, nil
}

func (t *tlsTransport) write(b []byte) (int, error) {
	n, _, err := t.writev([][]byte{b}, 0)
	return n, err
}

// writev hands crypto/tls a record's worth at a time, gathering small
// buffers into one record (a Writer's batch of replies costs one record,
// not one each), for as long as the socket takes the ciphertext: it
// returns fewer bytes than offered only once the socket is full.
func (t *tlsTransport) writev(iov [][]byte, off int) (n, want int, err error) {
	want = total(iov) - off
	v := ioVec{iov: iov}
	v.idx, v.off = advance(iov, 0, 0, off)
	for !v.done() {
		ok, err := t.sh.Flush()
		switch {
		case err != nil && n == 0:
			return 0, want, err
		case err != nil, !ok && n > 0:
			return n, want, nil // the error, or the wait, comes next call
		case !ok:
			return 0, want, t.wouldBlockOr(nil)
		case t.closed:
			return n, want, errClosed // after close_notify crypto/tls refuses too
		}
		rec := v.cur()
		if len(rec) < tlsMaxWrite && !v.last() {
			rec = t.gather(&v)
		} else {
			rec = rec[:min(len(rec), tlsMaxWrite)]
		}
		k, err := t.conn.Write(rec)
		if rec := t.buf; len(rec) > 0 {
			clear(rec) // the plaintext is not ours to keep
			t.buf = rec[:0]
		}
		n += k
		v.advance(k)
		if err != nil {
			if n > 0 {
				err = nil
			}
			return n, want, err
		}
	}
	// Whatever the socket did not take of the last record waits in the
	// shim; the engine calls flush before it calls the write done.
	return n, want, nil
}

// gather copies the buffers from v's position into t.buf, up to a record.
func (t *tlsTransport) gather(v *ioVec) []byte {
	buf := t.buf[:0]
	for i := v.idx; i < len(v.iov) && len(buf) < tlsMaxWrite; i++ {
		b := v.iov[i]
		if i == v.idx {
			b = b[v.off:]
		}
		buf = append(buf, b[:min(len(b), tlsMaxWrite-len(buf))]...)
	}
	t.buf = buf
	return buf
}

// wouldBlockOr is err, or EAGAIN for output still waiting for the socket.
func (t *tlsTransport) wouldBlockOr(err error) error {
	if err != nil {
		return err
	}
	t.ww = tevent.FDWrite
	return unix.EAGAIN
}

func (t *tlsTransport) readWait() tevent.Flags  { return t.rw }
func (t *tlsTransport) writeWait() tevent.Flags { return t.ww }

func (t *tlsTransport) buffered() bool { return t.more }

func (t *tlsTransport) flush() (bool, error) {
	ok, err := t.sh.Flush()
	if err == nil && !ok {
		t.ww = tevent.FDWrite
	}
	return ok, err
}

// closeNotify sends close_notify, as far as the socket takes it without
// waiting: Disconnect and Close never block the loop.
func (t *tlsTransport) closeNotify() error {
	if t.closed {
		return nil
	}
	t.closed = true
	if err := t.conn.CloseWrite(); err != nil {
		return err
	}
	_, err := t.sh.Flush()
	return err
}

// newTLSStream makes the TLS stream that takes over plain once its
// handshake is done: the same descriptor and addresses, a transport of its
// own. plain is left closed without its descriptor, so that closing it
// again does nothing; a Server tracking plain tracks the TLS stream
// instead.
func newTLSStream(plain *Stream, conn *tls.Conn, sh *tlsio.Shim) (*Stream, error) {
	if plain.closed {
		return nil, errClosed
	}
	if plain.busy() {
		return nil, ErrBusy
	}
	ev, fd := plain.reg.ev, plain.reg.fd
	plain.LocalAddress()
	plain.RemoteAddress()
	plain.reg.drop()
	ts := newStream(ev, fd, plain.network())
	ts.local, ts.remote = plain.local, plain.remote
	sh.Direct()
	// more starts out set: the handshake may have read application data
	// with the peer's last flight (a TLS 1.3 client's first request rides
	// behind its Finished), which sits in crypto/tls, not in the socket.
	ts.tr = &tlsTransport{conn: conn, sh: sh, rw: tevent.FDRead, ww: tevent.FDWrite, more: true}
	plain.closed = true
	plain.reg.fd = -1
	if plain.srv != nil {
		plain.srv.replace(plain, ts)
		plain.srv = nil
	}
	return ts, nil
}

// TLSConnectionState returns the state of s's TLS connection (version,
// cipher suite, peer certificates, ALPN), and false if s is not a TLS
// stream.
func (s *Stream) TLSConnectionState() (tls.ConnectionState, bool) {
	t, ok := s.tr.(*tlsTransport)
	if !ok {
		return tls.ConnectionState{}, false
	}
	return t.conn.ConnectionState(), true
}
