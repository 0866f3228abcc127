//go:build linux

package poller

import (
	"os"

	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// Default is the backend New uses for an empty name.
const Default = "epoll"

// Backends lists the backends this platform offers, default first.
func Backends() []string { return []string{"epoll", "poll"} }

type epoll struct {
	epfd int
	buf  []unix.EpollEvent
}

func newEpoll() (Poller, error) {
	fd, err := sys.EpollCreate()
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	return &epoll{epfd: fd, buf: make([]unix.EpollEvent, 128)}, nil
}

func (p *epoll) Name() string { return "epoll" }

func toEpoll(interest uint32) uint32 {
	var ev uint32
	if interest&In != 0 {
		ev |= unix.EPOLLIN
	}
	if interest&Out != 0 {
		ev |= unix.EPOLLOUT
	}
	if interest&RDHup != 0 {
		ev |= unix.EPOLLRDHUP
	}
	return ev
}

// ctl registers or changes fd. sys.EpollCtl refuses (EBADF) a number that
// does not fit the event's int32 Fd rather than let it truncate into
// another descriptor's number.
func (p *epoll) ctl(op int, fd int, tag uint32, interest uint32) error {
	ev := unix.EpollEvent{Events: toEpoll(interest), Fd: int32(fd), Pad: int32(tag)}
	return sys.EpollCtl(p.epfd, op, fd, &ev)
}

func (p *epoll) Add(fd int, tag uint32, interest uint32) error {
	if err := p.ctl(unix.EPOLL_CTL_ADD, fd, tag, interest); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (p *epoll) Mod(fd int, tag uint32, interest uint32) error {
	if err := p.ctl(unix.EPOLL_CTL_MOD, fd, tag, interest); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (p *epoll) Del(fd int) error {
	if err := sys.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (p *epoll) Wait(events []Event, msec int) (int, error) {
	buf := p.buf
	if len(events) < len(buf) {
		buf = buf[:len(events)]
	}
	var n int
	var err error
	if msec == 0 {
		// Busy loops poll without blocking after every turn; such a call
		// need not go through the scheduler (see package sys).
		n, err = sys.EpollWaitNow(p.epfd, buf)
	} else {
		n, err = sys.EpollWait(p.epfd, buf, msec)
	}
	if err != nil {
		if sys.Interrupted(err) {
			return 0, nil
		}
		return 0, os.NewSyscallError("epoll_wait", err)
	}
	for i := 0; i < n; i++ {
		e := &buf[i]
		var r uint32
		if e.Events&unix.EPOLLIN != 0 {
			r |= In
		}
		if e.Events&unix.EPOLLOUT != 0 {
			r |= Out
		}
		if e.Events&unix.EPOLLRDHUP != 0 {
			r |= RDHup
		}
		if e.Events&unix.EPOLLERR != 0 {
			r |= Err
		}
		if e.Events&unix.EPOLLHUP != 0 {
			r |= Hup
		}
		events[i] = Event{Fd: e.Fd, Tag: uint32(e.Pad), Ready: r}
	}
	return n, nil
}

func (p *epoll) Close() error {
	if p.epfd < 0 {
		return nil
	}
	err := sys.Close(p.epfd)
	p.epfd = -1
	if err != nil {
		return os.NewSyscallError("close", err)
	}
	return nil
}
