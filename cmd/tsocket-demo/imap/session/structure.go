package session

import (
	"strings"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/msg"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"
)

// writeEnvelope writes RFC 3501's envelope: (date subject from sender
// reply-to to cc bcc in-reply-to message-id).
func writeEnvelope(w *proto.Writer, e *msg.Envelope) {
	w.Byte('(')
	w.NStrings(e.Date, e.Subject)
	for _, list := range [][]msg.Address{e.From, e.Sender, e.ReplyTo, e.To, e.Cc, e.Bcc} {
		w.Byte(' ')
		writeAddresses(w, list)
	}
	w.Byte(' ')
	w.NStrings(e.InReplyTo, e.MessageID)
	w.Byte(')')
}

// writeAddresses writes (addr...) or NIL; a group is (NIL NIL name NIL),
// its members, then (NIL NIL NIL NIL).
func writeAddresses(w *proto.Writer, list []msg.Address) {
	if len(list) == 0 {
		w.Raw("NIL")
		return
	}
	w.Byte('(')
	for _, a := range list {
		w.Byte('(')
		if a.Group {
			w.Raw("NIL NIL ")
			w.NString(a.Mailbox)
			w.Raw(" NIL)")
			continue
		}
		w.NStrings(a.Name, a.Route, a.Mailbox, a.Host)
		w.Byte(')')
	}
	w.Byte(')')
}

// writeBody writes BODY, or with ext BODYSTRUCTURE (adding the extension
// data: MD5 (none), disposition, language (none)), per RFC 3501's body
// grammar.
func writeBody(w *proto.Writer, p *msg.Part, ext bool) {
	w.Byte('(')
	if len(p.Parts) > 0 {
		for _, c := range p.Parts {
			writeBody(w, c, ext)
		}
		w.Byte(' ')
		w.String(strings.ToUpper(p.Subtype))
		if ext {
			w.Byte(' ')
			writeParams(w, p.Params)
			w.Byte(' ')
			writeDisposition(w, p)
			w.Raw(" NIL")
		}
		w.Byte(')')
		return
	}
	// body-type-1part: type subtype params id description encoding octets.
	w.NStrings(strings.ToUpper(p.Type), strings.ToUpper(p.Subtype))
	w.Byte(' ')
	writeParams(w, p.Params)
	w.Byte(' ')
	w.NStrings(p.ID, p.Description, p.Encoding)
	w.Byte(' ')
	w.Number(uint64(len(p.Body)))
	switch {
	case p.Message != nil:
		w.Byte(' ')
		writeEnvelope(w, msg.ParseEnvelope(p.Message.Header))
		w.Byte(' ')
		writeBody(w, p.Message, ext)
		w.Byte(' ')
		w.Number(uint64(p.Lines))
	case p.Type == "text":
		w.Byte(' ')
		w.Number(uint64(p.Lines))
	}
	if ext {
		w.Raw(" NIL ")
		writeDisposition(w, p)
		w.Raw(" NIL")
	}
	w.Byte(')')
}

func writeParams(w *proto.Writer, params map[string]string) {
	if len(params) == 0 {
		w.Raw("NIL")
		return
	}
	w.Byte('(')
	for i, k := range msg.SortedKeys(params) {
		if i > 0 {
			w.Byte(' ')
		}
		w.String(strings.ToUpper(k))
		w.Byte(' ')
		w.String(params[k])
	}
	w.Byte(')')
}

func writeDisposition(w *proto.Writer, p *msg.Part) {
	if p.Disposition == "" {
		w.Raw("NIL")
		return
	}
	w.Byte('(')
	w.String(strings.ToUpper(p.Disposition))
	w.Byte(' ')
	writeParams(w, p.DispParams)
	w.Byte(')')
}
