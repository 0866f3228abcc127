// Package session is an IMAP4rev1 server (RFC 3501, with LITERAL+,
// SASL-IR, IDLE and UIDPLUS) without a transport: the command handlers and
// the state machine (not authenticated, authenticated, selected, logout)
// over a [mail.Store], driven by a connection layer that owns the socket.
//
// # The boundary
//
// The connection layer implements [proto.Out] (Write queues bytes for the
// client without copying) and calls the session with what it reads; each
// call returns a [Next] saying what to do next:
//
//	s := session.New(cfg, out)
//	next := s.Greet()
//	for {
//		switch next.Op {
//		case session.ReadLine:
//			line, err := read a CRLF line (tsocket.ReadUntilSend, max cfg.Limits.MaxLine)
//			// err == tsocket.ErrRecordTooLong: next = s.LineTooLong()
//			next = s.Line(line)
//		case session.ReadLiteral:
//			buf := make([]byte, next.Size) // tsocket.ReadFullSend into it
//			next = s.Literal(buf)
//		case session.WaitDrain:
//			// tsocket.WriterDrainSend, then
//			next = s.Drained()
//		case session.StartTLS:
//			// drop buffered input, tsocket.TLSServerSend, then
//			next = s.TLSStarted()
//		case session.Close:
//			// tsocket.WriterCloseSend; s is finished
//		}
//	}
//
// Out of band, the connection calls [Session.KeepAlive] from a timer while
// Next.Idle is set, [Session.Bye] to end a session (shutdown, idle
// timeout), [Session.Close] when the client has gone, and
// [Session.Hibernate] / [Resume] to hand an idling connection over (see
// [State]). Everything is asynchronous in the loop's sense: no call
// blocks, nothing waits on the network.
//
// # Updates from other sessions
//
// A session watches its selected mailbox. Another session's APPEND, STORE
// or EXPUNGE reaches it as a call to MailboxChanged: in IDLE it writes the
// updates at once; otherwise they wait for the end of its next command,
// where RFC 3501 lets the server speak (and EXPUNGE waits until a command
// other than FETCH, STORE or SEARCH, section 7.4.1).
//
// # Goroutines
//
// A Session belongs to the loop goroutine that owns its Config.Store; no
// method may be called from anywhere else, and nothing here locks.
package session
