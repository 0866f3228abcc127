package docs_test

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// serveLineLengths answers every line of s with its length, until the
// client goes away. A line of more than 80 bytes is answered with an
// error, and the session goes on.
func serveLineLengths(ev *tevent.Context, s *tsocket.Stream) {
	r := tsocket.NewReader(ev, s, 80)
	var next func()
	next = func() {
		tsocket.ReadUntilSend(ev, r, []byte("\n")).SetCallback(func(req *tevent.Req[[]byte]) {
			line, err := tsocket.ReadUntilRecv(req)
			var reply string
			switch {
			case errors.Is(err, tsocket.ErrRecordTooLong):
				reply = "line too long\n" // the rest of it is skipped
			case err != nil:
				s.Close() // io.EOF: the client is done
				return
			default:
				reply = fmt.Sprintf("%d bytes\n", len(line))
			}
			tsocket.WritevSend(ev, s, [][]byte{[]byte(reply)}).SetCallback(func(req *tevent.Req[int]) {
				if _, err := tsocket.WritevRecv(req); err != nil {
					s.Close()
					return
				}
				next()
			})
		})
	}
	next()
}

// loopAndPair returns a context and a connected socketpair on it.
func loopAndPair() (*tevent.Context, *tsocket.Stream, *tsocket.Stream, error) {
	ev, err := tevent.NewContext()
	if err != nil {
		return nil, nil, nil, err
	}
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		ev.Close()
		return nil, nil, nil, err
	}
	return ev, a, b, nil
}

func Example_reader() {
	ev, client, server, err := loopAndPair()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	serveLineLengths(ev, server)

	tsocket.WritevSend(ev, client, [][]byte{[]byte("hello\n" + strings.Repeat("x", 100) + "\nbye\n")})
	replies := tsocket.NewReader(ev, client, 0) // the client reads lines too
	for range 3 {
		req := tsocket.ReadUntilSend(ev, replies, []byte("\n"))
		if err := req.Poll(); err != nil {
			fmt.Println(err)
			return
		}
		line, err := tsocket.ReadUntilRecv(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(string(line))
	}
	client.Close()
	if err := ev.LoopWait(); err != nil { // the server sees EOF and closes
		fmt.Println(err)
	}
	// Output:
	// 6 bytes
	// line too long
	// 4 bytes
}

const maxBulk = 512 << 20 // Redis's proto-max-bulk-len

var errBadBulk = errors.New("bad bulk string")

// readBulk reads one RESP bulk string, "$5\r\nhello\r\n": the header line
// with ReadUntilSend, then the payload and its CRLF with ReadFullSend,
// into a buffer of their own however long they are. A length over
// maxBulk is refused before any of the payload is read.
func readBulk(ev *tevent.Context, r *tsocket.Reader, done func(payload []byte, err error)) {
	tsocket.ReadUntilSend(ev, r, []byte("\r\n")).SetCallback(func(req *tevent.Req[[]byte]) {
		hdr, err := tsocket.ReadUntilRecv(req)
		if err != nil {
			done(nil, err)
			return
		}
		if len(hdr) < 4 || hdr[0] != '$' {
			done(nil, errBadBulk)
			return
		}
		n, err := strconv.Atoi(string(hdr[1 : len(hdr)-2]))
		if err != nil || n < 0 || n > maxBulk {
			done(nil, errBadBulk)
			return
		}
		buf := make([]byte, n+2) // the payload and its CRLF
		tsocket.ReadFullSend(ev, r, buf).SetCallback(func(req *tevent.Req[int]) {
			if _, err := tsocket.ReadFullRecv(req); err != nil {
				done(nil, err)
				return
			}
			if !bytes.HasSuffix(buf, []byte("\r\n")) {
				done(nil, errBadBulk)
				return
			}
			done(buf[:n], nil)
		})
	})
}

func Example_readBulk() {
	ev, client, server, err := loopAndPair()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	defer client.Close()
	defer server.Close()

	r := tsocket.NewReader(ev, server, 64) // header lines; payloads may be longer
	var next func()
	next = func() {
		readBulk(ev, r, func(payload []byte, err error) {
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("%d bytes: %.20q\n", len(payload), payload)
			next()
		})
	}
	next()
	big := strings.Repeat("z", 100000)
	w := tsocket.WritevSend(ev, client, [][]byte{[]byte("$5\r\nhello\r\n$12\r\nhello\r\nworld\r\n$100000\r\n" + big + "\r\n")})
	w.SetCallback(func(*tevent.Req[int]) { client.Close() }) // then the server sees EOF
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 5 bytes: "hello"
	// 12 bytes: "hello\r\nworld"
	// 100000 bytes: "zzzzzzzzzzzzzzzzzzzz"
	// EOF
}
