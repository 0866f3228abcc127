package main

import (
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// runHibernator is "tsocket-demo imap-hibernate", the hibernation process
// the imap command starts (imap.ExecHibernator) when --hibernate-after is
// set; it is not meant to be run by hand.
func runHibernator(args []string, stderr io.Writer) error {
	fs := newFlags("imap-hibernate", "Holds IMAP connections idling in IDLE for the imap command that started it,\n"+
		"which passes them over the unix socket --control-fd. Not run by hand.", stderr)
	ctlFD := fs.Int("control-fd", 3, "descriptor of the control socket")
	var cfg imap.HibernatorConfig
	fs.DurationVar(&cfg.KeepAlive, "keepalive", imap.DefaultKeepAlive, "interval of keep-alives")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", imap.DefaultIdleTimeout, "autologout after this long without input")
	fs.DurationVar(&cfg.ByeTimeout, "bye-timeout", imap.DefaultByeTimeout, "reset a client that does not take its BYE after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.KeepAlive <= 0 || cfg.IdleTimeout <= 0 || cfg.ByeTimeout <= 0 {
		return fmt.Errorf("imap-hibernate: durations must be positive")
	}
	cfg.Logf = log.New(stderr, "", log.LstdFlags).Printf
	// What a connection's hand-over leaves behind goes back to the
	// system at once: holding little per connection is this process's
	// purpose.
	cfg.ReturnMemory = debug.FreeOSMemory
	// A ^C at the terminal reaches the whole process group: the server
	// decides when this process ends (its control socket closes).
	signal.Ignore(syscall.SIGINT)
	ev, err := tevent.NewContext()
	if err != nil {
		return err
	}
	defer ev.Close()
	ctl, err := tsocket.ExistingSocket(ev, *ctlFD)
	if err != nil {
		return fmt.Errorf("imap-hibernate: control socket: %w", err)
	}
	h := imap.RunHibernator(ev, ctl, cfg)
	sig, err := ev.AddSignal(syscall.SIGTERM, func(os.Signal, int) { h.Shutdown() })
	if err != nil {
		return err
	}
	h.OnExit(sig.Remove)
	return ev.LoopWait()
}
