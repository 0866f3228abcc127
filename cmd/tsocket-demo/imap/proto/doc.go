// Package proto is the wire syntax of IMAP4rev1 (RFC 3501) with LITERAL+
// (RFC 7888), independent of any transport: a [Parser] that turns the
// lines and literals a connection reads into [Command]s, decoders for the
// arguments commands take ([Cursor], [ParseSeqSet], [ParseFetch],
// [ParseSearch], [ParseDate], [ParseDateTime]), and a [Writer] that
// formats responses without copying message bodies.
//
// The connection reads one CRLF-terminated line at a time and gives it to
// the parser; when the line ends in a literal announcement the parser says
// how many bytes to read and whether the client waits for a continuation
// request first:
//
//	cmd, lit, err := p.Line(line)
//	switch {
//	case err != nil:
//		// answer err.(*proto.Error): Tag, Status, Code, Text; then read lit
//		// (if not nil, lit.Discard is set) and drop it
//	case lit != nil:
//		// if lit.Sync, send "+ Ready"; read lit.Size bytes into buf, then
//		p.Literal(buf) // and give the next line to p.Line
//	case cmd != nil:
//		// execute cmd
//	}
//
// Malformed input is a BAD [*Error] and never leaves the parser out of
// step: the rest of a failed command is skipped. [Limits] bound every
// allocation a client can cause.
//
// Nothing here is safe for concurrent use; a Parser and a Writer belong to
// one connection.
package proto
