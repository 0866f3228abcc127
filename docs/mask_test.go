package docs_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// countBytes is a MaskFunc that reads and counts everything until EOF, one
// buffer per call.
func countBytes(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
	total := e.Closure().(*int)
	var buf [4096]byte
	n, need, err := e.Read(buf[:])
	*total += n
	switch {
	case err == unix.EAGAIN:
		return need // FDRead: nothing there now
	case err != nil:
		e.Close() // io.EOF or a real error: done with this fd
		return 0
	}
	return tevent.FDRead // level-triggered: called again while input waits
}

// upperConn is one connection of the upper-casing server, mask style.
type upperConn struct {
	in    tevent.LineState
	out   tevent.IOState
	reply []byte // being written, or nil
}

// serveUpperMask does all it can and returns the mask it waits for next.
func serveUpperMask(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
	c := e.Closure().(*upperConn)
	for {
		if c.reply != nil {
			switch e.IOWrite(c.reply, &c.out) {
			case tevent.IOPending:
				return c.out.Need // FDWrite: the socket is full
			case tevent.IOFailed:
				e.Close()
				return 0
			}
			c.reply = nil
		}
		line, need, err := e.ReadUntil([]byte("\n"), &c.in)
		switch {
		case err == unix.EAGAIN:
			return need // FDRead: no whole line buffered or readable
		case err != nil: // io.EOF, a reset, a line too long
			e.Close()
			return 0
		}
		c.reply = bytes.ToUpper(line) // line is only valid until the next ReadUntil
	}
}

// socketpair is a non-blocking, close-on-exec unix stream pair.
func socketpair() (int, int) {
	fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		panic(err)
	}
	return fds[0], fds[1]
}

// readAll reads fd until EOF, or until nothing more is there.
func readAll(fd int) []byte {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if n <= 0 || err != nil {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

// Both MaskFuncs on socketpairs: the counter and the line server.
func Example_maskEvents() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()

	// The counter: 10000 bytes, then EOF.
	src, sink := socketpair()
	defer unix.Close(src)
	total := 0
	unix.Write(src, make([]byte, 10000))
	unix.Shutdown(src, unix.SHUT_WR)
	if err := ev.ScheduleEvent(ev.BuildFDEvent(sink, tevent.FDRead, countBytes, &total)); err != nil {
		fmt.Println(err)
		return
	}

	// The line server: two lines, then EOF.
	client, server := socketpair()
	defer unix.Close(client)
	unix.Write(client, []byte("hello\nmask events\n"))
	unix.Shutdown(client, unix.SHUT_WR)
	e := ev.BuildFDEvent(server, tevent.FDRead, serveUpperMask, &upperConn{})
	if err := ev.ScheduleEvent(e); err != nil {
		fmt.Println(err)
		return
	}

	if err := ev.LoopWait(); err != nil { // both events close their fds
		fmt.Println(err)
	}
	fmt.Println("counted", total)
	fmt.Printf("%s", readAll(client))
	// Output:
	// counted 10000
	// HELLO
	// MASK EVENTS
}

// lookupConn is one connection of a server whose answers need a blocking
// call.
type lookupConn struct {
	in    tevent.LineState
	out   tevent.IOState
	reply []byte // set off the loop, written on it
}

// slowLookup stands in for a blocking call: a DNS lookup, a disk read.
func slowLookup(key string) []byte {
	return fmt.Appendf(nil, "%s=%d\n", key, len(key))
}

// serveLookup reads a key per line and answers it. The lookup runs on the
// context's worker pool while the connection is suspended.
func serveLookup(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
	c := e.Closure().(*lookupConn)
	if c.reply != nil { // resumed with FDWrite, or still writing
		switch e.IOWrite(c.reply, &c.out) {
		case tevent.IOPending:
			return c.out.Need
		case tevent.IOFailed:
			e.Close()
			return 0
		}
		c.reply = nil
	}
	line, need, err := e.ReadUntil([]byte("\n"), &c.in)
	switch {
	case err == unix.EAGAIN:
		return need
	case err != nil:
		e.Close()
		return 0
	}
	key := string(bytes.TrimSpace(line))
	dup := e.Suspend()
	job := func() { c.reply = slowLookup(key) }
	if err := e.Context().QueueAsyncJob(job, dup, tevent.FDWrite); err != nil {
		dup.Close()
	}
	return 0 // ignored: e is spent, dup carries on
}

// serveLookupOwnGoroutine is serveLookup with a goroutine of its own in
// place of the pool, resumed with ScheduleEventAndDispatch.
func serveLookupOwnGoroutine(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
	c := e.Closure().(*lookupConn)
	if c.reply != nil {
		switch e.IOWrite(c.reply, &c.out) {
		case tevent.IOPending:
			return c.out.Need
		case tevent.IOFailed:
			e.Close()
			return 0
		}
		c.reply = nil
	}
	line, need, err := e.ReadUntil([]byte("\n"), &c.in)
	switch {
	case err == unix.EAGAIN:
		return need
	case err != nil:
		e.Close()
		return 0
	}
	key := string(bytes.TrimSpace(line))
	ev, dup := e.Context(), e.Suspend()
	go func() {
		c.reply = slowLookup(key)
		if err := ev.ScheduleEventAndDispatch(dup, tevent.FDWrite); err != nil {
			fmt.Println(err) // the context is closing: dup is dropped with it
		}
	}()
	return 0
}

// A suspended connection holds the loop open until it is resumed.
func Example_maskSuspend() {
	ev, err := tevent.NewContext(tevent.WithAsyncWorkers(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	for _, fn := range []tevent.MaskFunc{serveLookup, serveLookupOwnGoroutine} {
		client, server := socketpair()
		unix.Write(client, []byte("alpha\nbeta\n"))
		unix.Shutdown(client, unix.SHUT_WR)
		if err := ev.ScheduleEvent(ev.BuildFDEvent(server, tevent.FDRead, fn, &lookupConn{})); err != nil {
			fmt.Println(err)
			return
		}
		if err := ev.LoopWait(); err != nil {
			fmt.Println(err)
		}
		fmt.Printf("%s", readAll(client))
		unix.Close(client)
	}
	// Output:
	// alpha=5
	// beta=4
	// alpha=5
	// beta=4
}
