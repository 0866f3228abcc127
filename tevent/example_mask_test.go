//go:build linux

// The examples make their socketpair non-blocking and close-on-exec in one
// call, as they should, with Linux's SOCK_NONBLOCK|SOCK_CLOEXEC; darwin
// has no such flags (make the fds and then set O_NONBLOCK there).

package tevent_test

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// player is one side of a ping-pong game over a socketpair: it writes its
// word and reads the other's, in turn, for a number of rounds.
type player struct {
	name, say string
	serving   bool // writes first
	rounds    int

	writing bool
	out, in tevent.IOState
	heard   [4]byte
}

// play is the players' MaskFunc: it does every step it can and returns the
// mask it is waiting for.
func play(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
	p := e.Closure().(*player)
	for p.rounds > 0 {
		if p.writing {
			switch e.IOWrite([]byte(p.say), &p.out) {
			case tevent.IOPending:
				return p.out.Need // FDWrite: the socket is full
			case tevent.IOFailed:
				fmt.Println(p.name, "write:", p.out.Err)
				return 0
			}
			p.writing = false
			if !p.serving {
				p.rounds--
			}
			// Go straight on to the read instead of returning FDRead:
			// dispatch is level-triggered, so FDRead would work too, but
			// the answer is often there already and reading now saves a
			// wait and a dispatch per exchange.
			continue
		}
		switch e.IORead(p.heard[:], &p.in) {
		case tevent.IOPending:
			return p.in.Need // FDRead: nothing (or not all of it) yet
		case tevent.IOFailed:
			fmt.Println(p.name, "read:", p.in.Err)
			return 0
		}
		fmt.Printf("%s heard %s\n", p.name, p.heard[:])
		p.writing = true
		if p.serving {
			p.rounds--
		}
	}
	return 0 // game over: free the event (the fd stays open)
}

// A flip-flop protocol with two MaskEvents on a socketpair: each callback
// writes, then reads, and returns the mask it needs next.
func ExampleContext_BuildFDEvent() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])

	alice := &player{name: "alice", say: "ping", serving: true, writing: true, rounds: 3}
	bob := &player{name: "bob", say: "pong", rounds: 3}
	for _, e := range []*tevent.MaskEvent{
		ev.BuildFDEvent(fds[0], tevent.FDWrite, play, alice),
		ev.BuildFDEvent(fds[1], tevent.FDRead, play, bob),
	} {
		if err := ev.ScheduleEvent(e); err != nil {
			fmt.Println(err)
			return
		}
	}
	// Both callbacks return 0 when the game is over, and LoopWait returns.
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// bob heard ping
	// alice heard pong
	// bob heard ping
	// alice heard pong
	// bob heard ping
	// alice heard pong
}

// session is the state of one connection of the URL server.
type session struct {
	in    tevent.LineState
	out   tevent.IOState
	reply []byte // set by the job, written by the resumed callback
}

// fetch stands in for a blocking call (an HTTP fetch, a DNS lookup) that
// must not run on the loop.
func fetch(url string) []byte {
	return fmt.Appendf(nil, "200 %s (%d bytes)\n", url, 10*len(url))
}

// serveURLs reads one URL per line, fetches it on a worker while the
// connection is suspended, and writes the reply when the job resumes it.
func serveURLs(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
	s := e.Closure().(*session)
	if s.reply != nil { // resumed by the job with FDWrite, or still writing
		switch e.IOWrite(s.reply, &s.out) {
		case tevent.IOPending:
			return s.out.Need
		case tevent.IOFailed:
			e.Close()
			return 0
		}
		s.reply = nil
		// Read on at once: the next request may already be in s.in, where
		// no readiness event would ever report it.
	}
	line, need, err := e.ReadUntil([]byte("\n"), &s.in)
	switch {
	case err == unix.EAGAIN:
		return need
	case err == io.EOF:
		fmt.Println("server: client done")
		e.Close()
		return 0
	case err != nil:
		fmt.Println("server:", err)
		e.Close()
		return 0
	}
	url := string(bytes.TrimSpace(line)) // line is only valid until the next ReadUntil
	fmt.Println("server: fetching", url)
	dup := e.Suspend()
	job := func() { s.reply = fetch(url) }
	if err := e.Context().QueueAsyncJob(job, dup, tevent.FDWrite); err != nil {
		fmt.Println("server:", err)
		dup.Close()
	}
	return 0 // ignored: e was suspended, dup carries on
}

// A line-protocol session that hands the slow part of each request to the
// context's worker pool: the callback suspends its event, QueueAsyncJob runs
// the fetch on a worker, and the job's completion resumes the event on the
// loop, ready to write.
func ExampleContext_QueueAsyncJob() {
	ev, err := tevent.NewContext(tevent.WithAsyncWorkers(4))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	client, server := fds[0], fds[1]
	defer unix.Close(client)

	// Two pipelined requests, then the client is done sending.
	unix.Write(client, []byte("http://example.com/a\nhttp://example.com/bb\n"))
	unix.Shutdown(client, unix.SHUT_WR)

	if err := ev.ScheduleEvent(ev.BuildFDEvent(server, tevent.FDRead, serveURLs, &session{})); err != nil {
		fmt.Println(err)
		return
	}
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
		return
	}
	// The server has closed its end: read the replies up to EOF.
	var replies []byte
	buf := make([]byte, 512)
	for {
		n, err := unix.Read(client, buf)
		if n <= 0 || err != nil {
			break
		}
		replies = append(replies, buf[:n]...)
	}
	fmt.Printf("client: %s", replies)
	// Output:
	// server: fetching http://example.com/a
	// server: fetching http://example.com/bb
	// server: client done
	// client: 200 http://example.com/a (200 bytes)
	// 200 http://example.com/bb (210 bytes)
}
