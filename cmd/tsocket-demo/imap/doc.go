// Package imap is the demo's IMAP-style server: a tagged line protocol
// (CAPABILITY, NOOP, IDLE ended by DONE, LOGOUT) served over tsocket
// streams on one loop, with the updates and keep-alives of IDLE and the
// idle timeout driven by wait events. [ParseLine] and [NextLine] are pure
// functions over bytes with a documented cap ([MaxLine]); [Server] drives
// them over the connections it accepts or is given; [Client] reads the
// lines back, for the tour and for tests on the same loop.
//
//	srv := imap.NewServer(ev, l, imap.Config{IdleTimeout: time.Minute})
//	defer srv.Close()
//	ev.LoopWait()
//
// Everything here belongs to the loop goroutine.
package imap
