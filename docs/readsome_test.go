package docs_test

import (
	"bytes"
	"fmt"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// readLines reads whatever arrives into buf and hands each whole line to
// handle; a partial line waits in buf for the rest.
func readLines(ev *tevent.Context, s *tsocket.Stream, buf []byte, handle func(string)) {
	var have int
	var readMore func()
	readMore = func() {
		req := tsocket.ReadSomeSend(ev, s, buf[have:])
		req.SetCallback(func(req *tevent.Req[int]) {
			n, err := tsocket.ReadSomeRecv(req)
			if err != nil {
				s.Close() // io.EOF: the peer is done
				return
			}
			have += n
			for {
				i := bytes.IndexByte(buf[:have], '\n')
				if i < 0 {
					break
				}
				handle(string(buf[:i]))
				have = copy(buf, buf[i+1:have])
			}
			if have == len(buf) {
				s.Close() // a line longer than buf: refuse it
				return
			}
			readMore()
		})
	}
	readMore()
}

func ExampleReadSomeSend() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	a, b, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()

	readLines(ev, b, make([]byte, 1024), func(line string) { fmt.Println("line:", line) })
	// Two and a half lines in one write, the rest in another.
	for _, chunk := range []string{"one\ntwo\nthr", "ee\n"} {
		w := tsocket.WritevSend(ev, a, [][]byte{[]byte(chunk)})
		if err := w.Poll(); err != nil {
			fmt.Println(err)
			return
		}
		if _, err := tsocket.WritevRecv(w); err != nil {
			fmt.Println(err)
			return
		}
	}
	a.Close()
	if err := ev.LoopWait(); err != nil { // the reader sees EOF and closes b
		fmt.Println(err)
	}
	// Output:
	// line: one
	// line: two
	// line: three
}
