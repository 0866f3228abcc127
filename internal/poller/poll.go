//go:build unix

package poller

import (
	"os"

	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// pollBackend keeps a dense pollfd array; index maps an fd number to its
// slot so Mod and Del are O(1) (Del swaps the last slot in).
type pollBackend struct {
	fds   []unix.PollFd
	tags  []uint32
	index map[int32]int
}

func newPoll() Poller {
	return &pollBackend{index: make(map[int32]int)}
}

func (p *pollBackend) Name() string { return "poll" }

func toPoll(interest uint32) int16 {
	var ev int16
	if interest&In != 0 {
		ev |= unix.POLLIN
	}
	if interest&Out != 0 {
		ev |= unix.POLLOUT
	}
	if interest&RDHup != 0 {
		ev |= pollRDHup
	}
	return ev
}

func (p *pollBackend) Add(fd int, tag uint32, interest uint32) error {
	if fd < 0 {
		return os.NewSyscallError("poll_add", unix.EBADF)
	}
	if _, ok := p.index[int32(fd)]; ok {
		return os.NewSyscallError("poll_add", unix.EEXIST)
	}
	p.index[int32(fd)] = len(p.fds)
	p.fds = append(p.fds, unix.PollFd{Fd: int32(fd), Events: toPoll(interest)})
	p.tags = append(p.tags, tag)
	return nil
}

func (p *pollBackend) Mod(fd int, tag uint32, interest uint32) error {
	i, ok := p.index[int32(fd)]
	if !ok {
		return os.NewSyscallError("poll_mod", unix.ENOENT)
	}
	p.fds[i].Events = toPoll(interest)
	p.tags[i] = tag
	return nil
}

func (p *pollBackend) Del(fd int) error {
	i, ok := p.index[int32(fd)]
	if !ok {
		return os.NewSyscallError("poll_del", unix.ENOENT)
	}
	last := len(p.fds) - 1
	if i != last {
		p.fds[i] = p.fds[last]
		p.tags[i] = p.tags[last]
		p.index[p.fds[i].Fd] = i
	}
	p.fds = p.fds[:last]
	p.tags = p.tags[:last]
	delete(p.index, int32(fd))
	return nil
}

func (p *pollBackend) Wait(events []Event, msec int) (int, error) {
	n, err := sys.Poll(p.fds, msec)
	if err != nil {
		if sys.Interrupted(err) {
			return 0, nil
		}
		return 0, os.NewSyscallError("poll", err)
	}
	out := 0
	for i := range p.fds {
		if n == 0 || out == len(events) {
			break
		}
		re := p.fds[i].Revents
		if re == 0 {
			continue
		}
		n--
		var r uint32
		if re&unix.POLLIN != 0 {
			r |= In
		}
		if re&unix.POLLOUT != 0 {
			r |= Out
		}
		if re&pollRDHup != 0 {
			r |= RDHup
		}
		if re&(unix.POLLERR|unix.POLLNVAL) != 0 {
			r |= Err
		}
		if re&unix.POLLHUP != 0 {
			r |= Hup
		}
		events[out] = Event{Fd: p.fds[i].Fd, Tag: p.tags[i], Ready: r}
		out++
	}
	return out, nil
}

func (p *pollBackend) Close() error { return nil }
