// Package imap is the demo's IMAP4rev1 server: the connection layer that
// runs a [session.Session] (package session beside it: the protocol
// without a transport) over tsocket streams on one loop.
//
// [Server] accepts with tsocket.Serve; each connection reads lines with a
// tsocket.Reader (ReadUntilSend) and literals straight into their own
// buffer (ReadFullSend), queues the session's output in a tsocket.Writer
// with soft and hard limits, and keeps one wait event for the autologout,
// the keep-alives of IDLE, hibernation and the bound on a closing
// connection. STARTTLS runs tsocket.TLSServerSend when Config.TLS is set.
//
// With Config.HibernateAfter, connections idling in IDLE are handed to a
// hibernation process ([RunHibernator], started by [ExecHibernator] as
// "tsocket-demo imap-hibernate") over a unix socket with descriptor
// passing, and taken back when the client needs a session again; the
// control protocol is described in control.go.
//
//	srv, err := imap.NewServer(ev, l, imap.Config{Session: session.Config{Store: st, Users: users}})
//	...
//	srv.Shutdown(10*time.Second, func(err error) { ... }) // on SIGTERM
//
// [Client] reads and writes lines on a stream, for the tour and tests.
//
// Everything here belongs to the loop goroutine of the context it was made
// with.
package imap
