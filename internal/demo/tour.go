package demo

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tqueue"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

// Tour runs the demonstration: every part of the toolkit at work on one
// loop over loopback, each step printed to w with the API it shows and the
// time it took. It returns the first step's error.
func Tour(w io.Writer) error {
	ev, err := tevent.NewContext(tevent.WithAsyncWorkers(2))
	if err != nil {
		return err
	}
	defer ev.Close()
	t := &tour{ev: ev, w: w}
	fmt.Fprintf(w, "gotevent tour: one %s loop, servers and clients on loopback\n\n", ev.Backend())
	steps := []struct {
		title, api string
		run        func() (string, error)
	}{
		{"TCP server and client", "Listen, AcceptSend, ConnectSend, WritevSend, ReadvSend", t.tcpEcho},
		{"UDP echo", "UDPSocket, SendToSend, RecvFromSend", t.udpEcho},
		{"Pipelined replies through a writev queue", "tqueue.New, WritevQueueSend", t.pipelined},
		{"Length-prefixed messages", "ReadvPDUSend with a NextVectorFunc", t.lengthPrefixed},
		{"IMAP-style IDLE session", "AddWaitEvent pushing updates, ReadvPDU lines", t.imapIdle},
		{"Idle timeout", "AddWaitEvent closing a silent client", t.idleTimeout},
		{"Callback-mask connection suspended for a job", "BuildFDEvent, Suspend, QueueAsyncJob", t.suspended},
		{"Queue as a lock", "tqueue.WaitSend, WaitRecv", t.queueLock},
	}
	for i, st := range steps {
		start := time.Now()
		what, err := st.run()
		took := time.Since(start).Round(time.Microsecond)
		if err != nil {
			fmt.Fprintf(w, "%d. %s [%s]\n   FAILED after %v: %v\n", i+1, st.title, st.api, took, err)
			return fmt.Errorf("step %d (%s): %w", i+1, st.title, err)
		}
		fmt.Fprintf(w, "%d. %s [%s]\n   %s\n   ok in %v\n", i+1, st.title, st.api, what, took)
	}
	fmt.Fprintf(w, "\nall %d steps ok\n", len(steps))
	return nil
}

type tour struct {
	ev *tevent.Context
	w  io.Writer
}

// poll runs req to completion and returns its result: the synchronous
// wrapper, fine here because the tour owns the loop.
func poll[T any](req *tevent.Req[T]) (T, error) {
	if err := req.Poll(); err != nil {
		var zero T
		return zero, err
	}
	return req.Recv()
}

func loopback() tsocket.Address {
	a, err := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	if err != nil {
		panic(err) // a constant address: cannot fail
	}
	return a
}

// connected returns a server and a client stream joined over TCP loopback.
func (t *tour) connected() (srv, cli *tsocket.Stream, err error) {
	l, err := tsocket.Listen(t.ev, loopback())
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	acc := tsocket.AcceptSend(t.ev, l)
	cli, err = poll(tsocket.ConnectSend(t.ev, nil, l.Addr()))
	if err != nil {
		acc.Abandon()
		return nil, nil, err
	}
	srv, err = poll(acc)
	if err != nil {
		cli.Close()
		return nil, nil, err
	}
	return srv, cli, nil
}

func (t *tour) tcpEcho() (string, error) {
	srv, cli, err := t.connected()
	if err != nil {
		return "", err
	}
	defer srv.Close()
	defer cli.Close()
	msg := []byte("hello, tevent")
	// The server: read exactly len(msg) bytes, write them back. Written
	// as callbacks, as a server would be.
	buf := make([]byte, len(msg))
	rd := tsocket.ReadvSend(t.ev, srv, [][]byte{buf})
	rd.SetCallback(func(rd *tevent.Req[int]) {
		if _, err := tsocket.ReadvRecv(rd); err != nil {
			return
		}
		echo := tsocket.WritevSend(t.ev, srv, [][]byte{buf})
		echo.SetCallback(func(echo *tevent.Req[int]) { tsocket.WritevRecv(echo) })
	})
	// The client, written synchronously with Poll.
	if _, err := poll(tsocket.WritevSend(t.ev, cli, [][]byte{msg})); err != nil {
		return "", err
	}
	got := make([]byte, len(msg))
	if _, err := poll(tsocket.ReadvSend(t.ev, cli, [][]byte{got})); err != nil {
		return "", err
	}
	if !bytes.Equal(got, msg) {
		return "", fmt.Errorf("echo returned %q", got)
	}
	return fmt.Sprintf("%v -> %v echoed %q", cli.LocalAddress(), cli.RemoteAddress(), got), nil
}

func (t *tour) udpEcho() (string, error) {
	srv, err := tsocket.UDPSocket(t.ev, loopback(), nil)
	if err != nil {
		return "", err
	}
	defer srv.Close()
	cli, err := tsocket.UDPSocket(t.ev, loopback(), nil)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	in := tsocket.RecvFromSend(t.ev, srv)
	in.SetCallback(func(in *tevent.Req[tsocket.Datagram]) {
		data, from, err := tsocket.RecvFromRecv(in)
		if err != nil {
			return
		}
		out := tsocket.SendToSend(t.ev, srv, bytes.ToUpper(data), from)
		out.SetCallback(func(out *tevent.Req[int]) { tsocket.SendToRecv(out) })
	})
	if _, err := poll(tsocket.SendToSend(t.ev, cli, []byte("ping"), srv.LocalAddress())); err != nil {
		return "", err
	}
	reply, err := poll(tsocket.RecvFromSend(t.ev, cli))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("sent %q to %v, got %q back from %v", "ping", srv.LocalAddress(), reply.Data, reply.From), nil
}

func (t *tour) pipelined() (string, error) {
	srv, cli, err := t.connected()
	if err != nil {
		return "", err
	}
	defer srv.Close()
	defer cli.Close()
	// Five replies queued at once: the queue keeps one writev in flight and
	// sends the next only when the previous was received.
	q := tqueue.New(t.ev, "replies")
	var want []byte
	pending := 0
	for i := 1; i <= 5; i++ {
		reply := fmt.Appendf(nil, "reply %d of 5\r\n", i)
		want = append(want, reply...)
		pending++
		req := tsocket.WritevQueueSend(t.ev, srv, q, [][]byte{reply})
		req.SetCallback(func(req *tevent.Req[int]) {
			tsocket.WritevQueueRecv(req)
			pending--
		})
	}
	queued := q.Len()
	got := make([]byte, len(want))
	if _, err := poll(tsocket.ReadvSend(t.ev, cli, [][]byte{got})); err != nil {
		return "", err
	}
	if err := t.ev.LoopUntil(func() bool { return pending == 0 }); err != nil {
		return "", err
	}
	if !bytes.Equal(got, want) {
		return "", fmt.Errorf("replies arrived as %q", got)
	}
	return fmt.Sprintf("%d writes queued at once arrived whole and in order (%d bytes)", queued, len(got)), nil
}

func (t *tour) lengthPrefixed() (string, error) {
	srv, cli, err := t.connected()
	if err != nil {
		return "", err
	}
	defer srv.Close()
	defer cli.Close()
	msgs := []string{"first", "a somewhat longer second message", "3"}
	var wire []byte
	for _, m := range msgs {
		wire = binary.BigEndian.AppendUint32(wire, uint32(len(m)))
		wire = append(wire, m...)
	}
	// All three PDUs leave in one write; the reader splits them.
	if _, err := poll(tsocket.WritevSend(t.ev, cli, [][]byte{wire})); err != nil {
		return "", err
	}
	var got []string
	for range msgs {
		var hdr [4]byte
		var body []byte
		stage := 0
		next := func(*tsocket.Stream) ([][]byte, error) {
			stage++
			switch stage {
			case 1: // the 4-byte length first
				return [][]byte{hdr[:]}, nil
			case 2: // then exactly the body it announced
				n := binary.BigEndian.Uint32(hdr[:])
				if n == 0 || n > 1<<20 {
					return nil, fmt.Errorf("bad length %d", n)
				}
				body = make([]byte, n)
				return [][]byte{body}, nil
			}
			return nil, nil // body full: the PDU is complete
		}
		if _, err := poll(tsocket.ReadvPDUSend(t.ev, srv, next)); err != nil {
			return "", err
		}
		got = append(got, string(body))
	}
	if strings.Join(got, "|") != strings.Join(msgs, "|") {
		return "", fmt.Errorf("PDUs %q", got)
	}
	return fmt.Sprintf("%d messages in one write split into PDUs %q", len(got), got), nil
}

// lineSession is a server and a client joined by a socketpair on the loop.
func (t *tour) lineSession(cfg LineConfig) (*LineServer, *LineClient, func(), error) {
	srvSide, cliSide, err := tsocket.Socketpair(t.ev)
	if err != nil {
		return nil, nil, nil, err
	}
	l, err := tsocket.Listen(t.ev, loopback()) // the server wants one; unused here
	if err != nil {
		srvSide.Close()
		cliSide.Close()
		return nil, nil, nil, err
	}
	srv := NewLineServer(t.ev, l, cfg)
	srv.Serve(srvSide)
	return srv, NewLineClient(t.ev, cliSide), func() { srv.Close(); cliSide.Close() }, nil
}

func (t *tour) imapIdle() (string, error) {
	_, c, stop, err := t.lineSession(LineConfig{Update: 20 * time.Millisecond, KeepAlive: 15 * time.Millisecond, IdleTimeout: time.Minute})
	if err != nil {
		return "", err
	}
	defer stop()
	var log []string
	expect := func(want string) error {
		got, err := c.ReadLine()
		if err != nil {
			return err
		}
		log = append(log, got)
		if want != "" && got != want {
			return fmt.Errorf("got %q, want %q", got, want)
		}
		return nil
	}
	steps := []func() error{
		func() error { return expect("* OK gotevent demo ready") },
		func() error { return c.Send("a1 IDLE") },
		func() error { return expect("+ idling") },
	}
	for _, f := range steps {
		if err := f(); err != nil {
			return "", err
		}
	}
	pushed := 0
	for pushed < 2 { // two pushes from the wait event: an update and a keep-alive
		if err := expect(""); err != nil {
			return "", err
		}
		pushed++
	}
	// Input while IDLE runs is read at once: a stray command is refused,
	// DONE ends it.
	if err := c.Send("a2 NOOP"); err != nil {
		return "", err
	}
	if err := c.Send("DONE"); err != nil {
		return "", err
	}
	for {
		got, err := c.ReadLine()
		if err != nil {
			return "", err
		}
		if got == "a1 OK IDLE terminated" {
			log = append(log, got)
			break
		}
		if got == "* BAD expected DONE" {
			log = append(log, got)
		}
	}
	if err := c.Send("a3 LOGOUT"); err != nil {
		return "", err
	}
	if err := expect("* BYE logging out"); err != nil {
		return "", err
	}
	return "server said: " + strings.Join(log[1:], " / "), nil
}

func (t *tour) idleTimeout() (string, error) {
	_, c, stop, err := t.lineSession(LineConfig{IdleTimeout: 50 * time.Millisecond})
	if err != nil {
		return "", err
	}
	defer stop()
	start := time.Now()
	if _, err := c.ReadLine(); err != nil { // the greeting
		return "", err
	}
	bye, err := c.ReadLine() // then silence, until the server gives up
	if err != nil {
		return "", err
	}
	if _, err := c.ReadLine(); !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("after BYE: %v, want EOF", err)
	}
	return fmt.Sprintf("silent client got %q and EOF after %v (timeout 50ms)", bye, time.Since(start).Round(time.Millisecond)), nil
}

// maskSession is one connection served in the callback-mask style.
type maskSession struct {
	in    tevent.LineState
	out   tevent.IOState
	reply []byte
	jobs  int
}

func serveMask(e *tevent.MaskEvent, _ tevent.Flags, _ time.Time) tevent.Flags {
	s := e.Closure().(*maskSession)
	if s.reply != nil {
		switch e.IOWrite(s.reply, &s.out) {
		case tevent.IOPending:
			return s.out.Need
		case tevent.IOFailed:
			e.Close()
			return 0
		}
		s.reply = nil
	}
	line, need, err := e.ReadUntil([]byte("\n"), &s.in)
	switch {
	case err == unix.EAGAIN:
		return need
	case err != nil:
		e.Close()
		return 0
	}
	word := string(bytes.TrimSpace(line))
	// The slow part runs on a worker; the connection leaves the loop
	// meanwhile and comes back ready to write.
	dup := e.Suspend()
	s.jobs++
	job := func() { s.reply = fmt.Appendf(nil, "%s has %d letters\r\n", word, len(word)) }
	if err := e.Context().QueueAsyncJob(job, dup, tevent.FDWrite); err != nil {
		dup.Close()
	}
	return 0
}

func (t *tour) suspended() (string, error) {
	fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return "", err
	}
	sess := &maskSession{}
	e := t.ev.BuildFDEvent(fds[1], tevent.FDRead, serveMask, sess)
	if err := t.ev.ScheduleEvent(e); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return "", err
	}
	cliStream, err := tsocket.ExistingSocket(t.ev, fds[0])
	if err != nil {
		unix.Close(fds[0])
		return "", err
	}
	defer cliStream.Close()
	c := NewLineClient(t.ev, cliStream)
	var replies []string
	for _, word := range []string{"tevent", "suspend"} {
		if err := c.Send(word); err != nil {
			return "", err
		}
		r, err := c.ReadLine()
		if err != nil {
			return "", err
		}
		replies = append(replies, r)
	}
	return fmt.Sprintf("%d jobs ran on workers while suspended; replies %q", sess.jobs, replies), nil
}

func (t *tour) queueLock() (string, error) {
	q := tqueue.New(t.ev, "lock")
	var order []string
	done := 0
	for _, name := range []string{"A", "B", "C"} {
		lock := tqueue.WaitSend(t.ev, q)
		lock.SetCallback(func(lock *tevent.Req[struct{}]) {
			// At the head of the queue: the lock is ours until WaitRecv
			// receives the request. Hold it across asynchronous work (a
			// 5 ms wakeup), then release it, which lets the next one in.
			order = append(order, name+" holds")
			work := tevent.WakeupSend(t.ev, t.ev.Now().Add(5*time.Millisecond))
			work.SetCallback(func(work *tevent.Req[struct{}]) {
				tevent.WakeupRecv(work)
				order = append(order, name+" releases")
				tqueue.WaitRecv(lock)
				done++
			})
		})
	}
	if err := t.ev.LoopUntil(func() bool { return done == 3 }); err != nil {
		return "", err
	}
	return strings.Join(order, ", "), nil
}
