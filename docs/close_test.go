package docs_test

import (
	"testing"
	"time"

	"github.com/gotevent/gotevent/tevent"
)

// The guide's "Closing a context": a goroutine closes the context on a
// signal while the loop runs, and LoopWait returns once the teardown is
// done.
func TestGuideCloseFromAnotherGoroutine(t *testing.T) {
	ev, nerr := tevent.NewContext()
	if nerr != nil {
		t.Fatal(nerr)
	}
	// Something to wait for, as a server's listener would be.
	ev.AddTimer(ev.Now().Add(time.Hour), func(*tevent.Timer, time.Time) {})
	stop := make(chan struct{})
	ev.ScheduleImmediate(func() { close(stop) }) // the loop is running
	go func() {
		<-stop // SIGTERM, say
		ev.Close()
	}()
	err := ev.LoopWait() // returns once the teardown is done
	if err != nil {
		t.Fatalf("LoopWait = %v", err)
	}
	select {
	case <-ev.Done():
	default:
		t.Fatal("Done is not closed after LoopWait returned")
	}
}
