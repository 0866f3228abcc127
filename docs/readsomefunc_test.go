package docs_test

import (
	"bytes"
	"fmt"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// readLinesShared is readLines with the buffer owned by the loop: every
// connection reads into shared, and keeps only an unfinished line of its
// own, so between lines it holds no buffer at all.
func readLinesShared(ev *tevent.Context, s *tsocket.Stream, shared []byte, handle func(string)) {
	var partial []byte
	get := func() []byte { return shared }
	var readMore func()
	readMore = func() {
		req := tsocket.ReadSomeFuncSend(ev, s, get)
		req.SetCallback(func(req *tevent.Req[[]byte]) {
			p, err := tsocket.ReadSomeFuncRecv(req)
			if err != nil {
				s.Close() // io.EOF: the peer is done
				return
			}
			for {
				i := bytes.IndexByte(p, '\n')
				if i < 0 {
					break
				}
				handle(string(append(partial, p[:i]...)))
				partial, p = nil, p[i+1:]
			}
			if len(partial)+len(p) > 1024 {
				s.Close() // a line longer than 1 KiB: refuse it
				return
			}
			partial = append(partial, p...) // copied out of shared
			readMore()
		})
	}
	readMore()
}

func ExampleReadSomeFuncSend() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	shared := make([]byte, 16<<10) // one read buffer for the whole loop
	var peers []*tsocket.Stream
	for i := range 2 {
		a, b, err := tsocket.Socketpair(ev)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer a.Close()
		peers = append(peers, a)
		readLinesShared(ev, b, shared, func(line string) { fmt.Printf("conn %d: %s\n", i, line) })
	}
	// Both connections send at once; the second line of each is split.
	for i, chunk := range []string{"hello\nwor", "ping\npo", "ld\n", "ng\n"} {
		w := tsocket.WritevSend(ev, peers[i%2], [][]byte{[]byte(chunk)})
		if err := w.Poll(); err != nil {
			fmt.Println(err)
			return
		}
	}
	for _, a := range peers {
		a.Close()
	}
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Unordered output:
	// conn 0: hello
	// conn 0: world
	// conn 1: ping
	// conn 1: pong
}
