//go:build unix

package poller

import (
	"os"

	"github.com/gotevent/gotevent/internal/sys"
	"golang.org/x/sys/unix"
)

// pollBackend keeps a dense pollfd array; index maps an fd number to its
// slot so Mod and Del are O(1) (Del swaps the last slot in). Nothing is
// sized by fd number: a registration costs one slot and one map entry
// whatever the number.
//
// An fd that poll reports as POLLNVAL (closed behind the backend's back)
// is reported once with Err and then parked: its slot's Fd is stored as
// ^fd, a negative number poll(2) skips, until Mod re-arms it or Del drops
// it. Without that, every Wait would return at once with the same report,
// and a loop whose handler does not remove the fd would spin.
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

// slotFd returns the fd number of slot i, parked or not.
func (p *pollBackend) slotFd(i int) int32 {
	if fd := p.fds[i].Fd; fd < 0 {
		return ^fd
	}
	return p.fds[i].Fd
}

// Add refuses an fd that is not open (EBADF), as epoll_ctl does: poll(2)
// itself would take any number and report POLLNVAL for it.
func (p *pollBackend) Add(fd int, tag uint32, interest uint32) error {
	if err := sys.CheckOpen(fd); err != nil {
		return os.NewSyscallError("poll_add", err)
	}
	if _, ok := p.index[int32(fd)]; ok {
		return os.NewSyscallError("poll_add", unix.EEXIST)
	}
	p.index[int32(fd)] = len(p.fds)
	p.fds = append(p.fds, unix.PollFd{Fd: int32(fd), Events: toPoll(interest)})
	p.tags = append(p.tags, tag)
	return nil
}

// Mod changes interest and tag, and re-arms an fd parked after POLLNVAL.
func (p *pollBackend) Mod(fd int, tag uint32, interest uint32) error {
	i, ok := p.lookup(fd)
	if !ok {
		return os.NewSyscallError("poll_mod", unix.ENOENT)
	}
	p.fds[i] = unix.PollFd{Fd: int32(fd), Events: toPoll(interest)}
	p.tags[i] = tag
	return nil
}

func (p *pollBackend) Del(fd int) error {
	i, ok := p.lookup(fd)
	if !ok {
		return os.NewSyscallError("poll_del", unix.ENOENT)
	}
	last := len(p.fds) - 1
	if i != last {
		p.fds[i] = p.fds[last]
		p.tags[i] = p.tags[last]
		p.index[p.slotFd(i)] = i
	}
	p.fds = p.fds[:last]
	p.tags = p.tags[:last]
	delete(p.index, int32(fd))
	return nil
}

// lookup returns the slot of fd. A number that does not fit in an int32
// is never registered (Add refuses it), so it must not be truncated into
// one that is.
func (p *pollBackend) lookup(fd int) (int, bool) {
	if int(int32(fd)) != fd {
		return 0, false
	}
	i, ok := p.index[int32(fd)]
	return i, ok
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
		if re&unix.POLLNVAL != 0 {
			p.fds[i].Fd = ^p.fds[i].Fd // reported once: park it
			p.fds[i].Revents = 0
		}
	}
	return out, nil
}

func (p *pollBackend) Close() error { return nil }
