// Package procstat reads a process's CPU time and resident memory from
// /proc, for the harness to measure servers from outside.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ClockTick is the unit of utime and stime in /proc/<pid>/stat
// (sysconf(_SC_CLK_TCK), 100 on Linux).
const ClockTick = 10 * time.Millisecond

// CPU returns the user plus system time of every thread of pid so far.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return ParseStat(b)
}

// ParseStat returns utime+stime from the text of /proc/<pid>/stat. The
// command name, field 2, may hold spaces and parentheses, so fields are
// counted from the last ')'.
func ParseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("procstat: no command name in stat")
	}
	f := bytes.Fields(b[i+1:])
	// After the name: state is field 3, so utime (14) and stime (15) are
	// at indexes 11 and 12.
	if len(f) < 13 {
		return 0, errors.New("procstat: stat too short")
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("procstat: %w", err)
	}
	return time.Duration(ut+st) * ClockTick, nil
}

// RSS returns the resident set size of pid in bytes (VmRSS).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return ParseRSS(b)
}

// PSS returns the proportional set size of pid in bytes, the Pss line of
// /proc/<pid>/smaps_rollup: resident pages, each shared one divided by
// the number of processes mapping it, so a server that hands connections
// to a helper process is not counted twice.
func PSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	return parseKB(b, "Pss:")
}

// Children returns the pids of the processes whose parent is pid (a
// server's helper process), read from every /proc/<n>/stat.
func Children(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil {
			continue // gone since the listing
		}
		if ppid, err := ParsePPID(b); err == nil && ppid == pid {
			kids = append(kids, n)
		}
	}
	return kids, nil
}

// ParsePPID returns the parent's pid from the text of /proc/<pid>/stat.
func ParsePPID(b []byte) (int, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("procstat: stat without a command name")
	}
	f := strings.Fields(string(b[i+1:])) // state, ppid, ...
	if len(f) < 2 {
		return 0, errors.New("procstat: short stat line")
	}
	return strconv.Atoi(f[1])
}

// FDs returns how many descriptors pid has open.
func FDs(pid int) (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(ents), err
}

// ParseRSS returns VmRSS in bytes from the text of /proc/<pid>/status.
func ParseRSS(b []byte) (int64, error) { return parseKB(b, "VmRSS:") }

// parseKB returns the value of the "name  N kB" line of b in bytes.
func parseKB(b []byte, name string) (int64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte(name))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("procstat: odd %s line %q", name, line)
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: %w", err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("procstat: no %s line", strings.TrimSuffix(name, ":"))
}

// Busy returns the CPU time spent by the whole machine so far, all CPUs
// together: the sum of user, nice, system, irq and steal of the "cpu" line
// of /proc/stat. Softirq time is left out: on loopback it is mostly the
// network processing of the measured processes' own traffic, which the
// kernel accounts there rather than to any process.
func Busy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return ParseBusy(b)
}

// ParseBusy returns the busy time from the text of /proc/stat.
func ParseBusy(b []byte) (time.Duration, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("cpu "))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) < 8 {
			return 0, errors.New("procstat: short cpu line")
		}
		var ticks int64
		for _, i := range []int{0, 1, 2, 5, 7} { // user nice system (idle iowait) irq (softirq) steal
			v, err := strconv.ParseInt(string(f[i]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("procstat: %w", err)
			}
			ticks += v
		}
		return time.Duration(ticks) * ClockTick, nil
	}
	return 0, errors.New("procstat: no cpu line")
}
