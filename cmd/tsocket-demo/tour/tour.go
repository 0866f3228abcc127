package tour

import (
	"fmt"
	"io"
	"time"

	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// Run runs the demonstration: every part of the toolkit at work on one
// loop over loopback, each step printed to w with the API it shows and the
// time it took. It returns the first step's error.
func Run(w io.Writer) error {
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
		{"IMAP IDLE: new mail pushed, keep-alives", "Reader, Writer, AddWaitEvent on the imap server", t.imapIdle},
		{"IMAP autologout", "AddWaitEvent closing a silent client", t.idleTimeout},
		{"Callback-mask connection suspended for a job", "BuildFDEvent, Suspend, QueueAsyncJob", t.suspended},
		{"Queue as a lock", "tqueue.WaitSend, WaitRecv", t.queueLock},
		{"TLS over a stream", "TLSServerSend, TLSClientSend, TLSConnectionState", t.tlsEcho},
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
