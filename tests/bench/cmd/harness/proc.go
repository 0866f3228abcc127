package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// proc is a child process pinned to one CPU with GOMAXPROCS=1, whose
// standard output is read line by line.
type proc struct {
	name string
	// term: the child does not read "quit" on standard input (the demo,
	// redis-server); stop sends SIGTERM at once.
	term bool
	// hasStats: the child answers "stats" on standard input with its Go
	// heap and stacks (cmd/server, the demo with resp --stats).
	hasStats bool
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	lines    chan string
	mu       sync.Mutex
	errb     bytes.Buffer // last part of standard error, for messages
	done     chan error
}

// start runs argv on cpu (-1: anywhere). The child's pid is that of the
// program itself: taskset execs it.
func (h *harness) start(name string, cpu int, argv ...string) (*proc, error) {
	if cpu >= 0 && h.taskset != "" {
		argv = append([]string{h.taskset, "-c", strconv.Itoa(cpu)}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	p := &proc{name: name, cmd: cmd, lines: make(chan string, 64), done: make(chan error, 1)}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = writerFunc(func(b []byte) (int, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.errb.Write(b)
		if p.errb.Len() > 8<<10 {
			rest := p.errb.Bytes()[p.errb.Len()-4<<10:]
			p.errb.Reset()
			p.errb.Write(rest)
		}
		return len(b), nil
	})
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	return p, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.TrimSpace(p.errb.String())
}

// next returns the next output line, or an error when the process ends or
// nothing comes within d.
func (p *proc) next(d time.Duration) (string, error) {
	select {
	case line, ok := <-p.lines:
		if !ok {
			return "", p.exitErr()
		}
		return line, nil
	case <-time.After(d):
		return "", fmt.Errorf("%s: no output for %v", p.name, d)
	}
}

func (p *proc) exitErr() error {
	err := <-p.done
	p.done <- err // keep it for wait
	msg := p.stderr()
	if err == nil {
		err = errors.New("exited")
	}
	if msg != "" {
		return fmt.Errorf("%s: %w: %s", p.name, err, lastLine(msg))
	}
	return fmt.Errorf("%s: %w", p.name, err)
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// send writes a line to the child's standard input.
func (p *proc) send(line string) error {
	_, err := io.WriteString(p.stdin, line+"\n")
	return err
}

// wait waits for the child to exit, killing it after d.
func (p *proc) wait(d time.Duration) error {
	for range p.lines { // drain, so the reader can finish
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			return fmt.Errorf("%s: %w: %s", p.name, err, lastLine(p.stderr()))
		}
		return nil
	case <-time.After(d):
		p.cmd.Process.Kill()
		return fmt.Errorf("%s: killed after %v", p.name, d)
	}
}

// stop asks the child to end (quit on standard input unless p.term, then
// SIGTERM, then SIGKILL) and waits for it.
func (p *proc) stop() {
	if !p.term {
		_ = p.send("quit")
	}
	p.stdin.Close()
	ended := make(chan struct{})
	go func() {
		if !p.term {
			select {
			case <-ended:
				return
			case <-time.After(time.Second):
			}
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-ended:
			return
		case <-time.After(3 * time.Second):
		}
		_ = p.cmd.Process.Kill()
	}()
	for range p.lines {
	}
	err := <-p.done
	p.done <- err
	close(ended)
}

// pinSelf moves every thread of this process to cpu, so the harness never
// runs on the server's CPU. Threads created later inherit the mask.
func pinSelf(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	tasks, err := filepath.Glob("/proc/self/task/*")
	if err != nil {
		return err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(filepath.Base(t))
		if err != nil {
			continue
		}
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			return fmt.Errorf("sched_setaffinity(%d): %w", tid, err)
		}
	}
	return nil
}
