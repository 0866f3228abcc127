// Package tour is the demo's self-contained tour: every part of the toolkit
// at work on one loop over loopback (TCP and UDP echo, pipelined writes
// through a queue, length-prefixed PDUs, an IMAP IDLE session told of new
// mail and an autologout on the [imap] server, a callback-mask connection suspended
// for an async job, a queue as a lock), each step printed with the API it
// shows and the time it took.
//
//	if err := tour.Run(os.Stdout); err != nil {
//		// the output says which step failed
//	}
//
// [imap]: github.com/gotevent/gotevent/cmd/tsocket-demo/imap
package tour
