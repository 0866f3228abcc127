// Package msg reads stored messages the way IMAP needs them: raw header
// fields (for HEADER.FIELDS and SEARCH HEADER), the envelope with absent
// fields kept absent and addresses split into name, route, mailbox and
// host (RFC 5322 with its obsolete forms, tolerantly), and a MIME tree of
// slices of the message (for BODYSTRUCTURE and BODY[1.2.MIME]).
//
//	p := msg.Parse(raw)
//	env := msg.ParseEnvelope(p.Header)
//	text := p.Find([]int{1, 2}).Body
//
// Everything returned aliases the message's bytes: nothing is copied, so
// the message must stay unchanged while they are in use. The functions
// are pure and safe for concurrent use on distinct inputs.
package msg
