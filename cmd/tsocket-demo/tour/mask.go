package tour

import (
	"bytes"
	"fmt"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
	"golang.org/x/sys/unix"
)

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
	c := imap.NewClient(t.ev, cliStream)
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
