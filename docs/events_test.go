package docs_test

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/gotevent/gotevent/internal/sys"
	"github.com/gotevent/gotevent/tevent"
	"golang.org/x/sys/unix"
)

// An fd event is level-triggered: a handler that reads one byte of three
// is called again, once per iteration, until the input is gone.
func Example_fdEvent() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	p, err := sys.Pipe()
	if err != nil {
		fmt.Println(err)
		return
	}
	unix.Write(p[1], []byte("abc"))
	unix.Close(p[1]) // the reader sees EOF after "abc"

	fde, err := ev.AddFD(p[0], tevent.FDRead, func(fde *tevent.FD, flags tevent.Flags) {
		var b [1]byte
		n, err := unix.Read(fde.Fd(), b[:])
		if err == unix.EAGAIN {
			return // nothing after all: wait again
		}
		if n == 0 || err != nil {
			fmt.Println(flags, "EOF")
			fde.Remove() // closes p[0]: see SetAutoClose
			return
		}
		fmt.Printf("%v %q\n", flags, b[:n])
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fde.SetAutoClose(true)
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// READ "a"
	// READ "b"
	// READ "c"
	// READ EOF
}

// A timer runs once; its handler re-arms it with Reset for the next tick.
func Example_timer() {
	ev := newFakeContext()
	defer ev.Close()

	ticks := 0
	ev.AddTimer(ev.Now().Add(time.Second), func(te *tevent.Timer, now time.Time) {
		ticks++
		fmt.Println("tick", ticks, "at", now.Sub(guideStart))
		if ticks < 3 {
			te.Reset(now.Add(time.Second))
		}
	})
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// tick 1 at 1s
	// tick 2 at 2s
	// tick 3 at 3s
}

// One iteration runs immediates first, then due timers, then ready fds.
func Example_iteration() {
	ev := newFakeContext()
	defer ev.Close()
	fds, err := sys.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])

	ev.AddFD(fds[0], tevent.FDWrite, func(fde *tevent.FD, _ tevent.Flags) {
		fmt.Println("fd")
		fde.Remove()
	})
	ev.AddTimer(ev.Now(), func(*tevent.Timer, time.Time) { fmt.Println("timer") })
	ev.ScheduleImmediate(func() { fmt.Println("immediate") })
	if err := ev.LoopOnce(); err != nil {
		fmt.Println(err)
	}
	fmt.Println("iterations:", ev.Iterations())
	// Output:
	// immediate
	// timer
	// fd
	// iterations: 1
}

// A signal is delivered inside the loop, with a count of how many arrived.
func Example_signal() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()

	var sigev *tevent.Signal
	sigev, err = ev.AddSignal(syscall.SIGUSR1, func(sig os.Signal, count int) {
		fmt.Println("got", sig, "x", count)
		sigev.Remove() // the signal event was the loop's last event
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// got user defined signal 1 x 1
}

// Workers on other goroutines hand their results to the loop with Post. A
// watchdog timer keeps the loop waiting until the posts arrive.
func Example_postFromGoroutines() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()

	watchdog := ev.AddTimer(ev.Now().Add(time.Minute), func(*tevent.Timer, time.Time) {
		fmt.Println("workers are stuck")
	})
	results := map[int]int{} // touched only on the loop goroutine
	var wg sync.WaitGroup
	for i := 1; i <= 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			square := i * i // the work, off the loop
			ev.Post(func() {
				results[i] = square // on the loop
				if len(results) == 3 {
					watchdog.Cancel() // nothing left: LoopWait returns
				}
			})
		}()
	}
	if err := ev.LoopWait(); err != nil {
		fmt.Println(err)
	}
	wg.Wait()
	fmt.Println(results)
	// Output:
	// map[1:1 2:4 3:9]
}

// Without the watchdog, LoopWait finds nothing registered and returns before
// the worker's post arrives; the function still runs, at the latest in
// Close.
func Example_postGotcha() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	start := make(chan struct{})
	done := make(chan struct{})
	go func() {
		<-start
		ev.Post(func() { fmt.Println("posted function ran") })
		close(done)
	}()
	fmt.Println("LoopWait:", ev.LoopWait())
	close(start)
	<-done
	ev.Close()
	// Output:
	// LoopWait: <nil>
	// posted function ran
}
