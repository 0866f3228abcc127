package docs_test

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/gotevent/gotevent/internal/testutil"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// serveTLS is the handler of a TLS server: the handshake first, bounded
// by an end time, then the protocol on the TLS stream exactly as on a
// plain one.
func serveTLS(ev *tevent.Context, s *tsocket.Stream, cfg *tls.Config) {
	hs := tsocket.TLSServerSend(ev, s, cfg)
	hs.SetEndTime(ev.Now().Add(10e9)) // a client that stalls mid-handshake
	hs.SetCallback(func(hs *tevent.Req[*tsocket.Stream]) {
		ts, err := tsocket.TLSServerRecv(hs)
		if err != nil {
			s.Close() // an *OpError with Op "tls" around crypto/tls's error
			return
		}
		serveLineLengths(ev, ts) // the Reader and the Writer, unchanged
	})
}

// dialTLS connects to addr and upgrades the stream to TLS.
func dialTLS(ev *tevent.Context, addr tsocket.Address, cfg *tls.Config, done func(*tsocket.Stream, error)) {
	tsocket.ConnectSend(ev, nil, addr).SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
		s, err := tsocket.ConnectRecv(req)
		if err != nil {
			done(nil, err)
			return
		}
		tsocket.TLSClientSend(ev, s, cfg).SetCallback(func(req *tevent.Req[*tsocket.Stream]) {
			ts, err := tsocket.TLSClientRecv(req)
			if err != nil {
				s.Close()
			}
			done(ts, err)
		})
	})
}

func Example_tls() {
	certs, err := testutil.NewTLSConfigs() // a self-signed certificate for localhost
	if err != nil {
		fmt.Println(err)
		return
	}
	ev, _ := tevent.NewContext()
	defer ev.Close()
	addr, _ := tsocket.ParseAddress("127.0.0.1:0")
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := tsocket.Serve(ev, l, func(s *tsocket.Stream) { serveTLS(ev, s, certs.Server) })
	dialTLS(ev, l.Addr(), certs.Client, func(s *tsocket.Stream, err error) {
		if err != nil {
			fmt.Println("dial:", err)
			return
		}
		st, _ := s.TLSConnectionState()
		fmt.Println("TLS 1.3:", st.Version == tls.VersionTLS13)
		r := tsocket.NewReader(ev, s, 100)
		tsocket.WritevSend(ev, s, [][]byte{[]byte("hello over TLS\n")})
		tsocket.ReadUntilSend(ev, r, []byte("\n")).SetCallback(func(req *tevent.Req[[]byte]) {
			line, err := tsocket.ReadUntilRecv(req)
			fmt.Printf("%q %v\n", strings.TrimSpace(string(line)), err)
			s.Close() // sends close_notify
			srv.Close()
		})
	})
	ev.LoopWait()
	// Output:
	// TLS 1.3: true
	// "15 bytes" <nil>
}
