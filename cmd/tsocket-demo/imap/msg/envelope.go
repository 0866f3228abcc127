package msg

// Envelope is what FETCH ENVELOPE returns (RFC 3501 section 7.4.2). An
// empty string or a nil list is an absent field (NIL); strings are the
// raw, unfolded header values, encoded words left as they are.
type Envelope struct {
	Date, Subject                      string
	From, Sender, ReplyTo, To, Cc, Bcc []Address
	InReplyTo, MessageID               string
}

// ParseEnvelope builds the envelope of a message's header. Sender and
// Reply-To default to From when absent or empty, as RFC 3501 requires.
func ParseEnvelope(h Header) *Envelope {
	get := func(name string) string {
		v, _ := h.Get(name)
		return v
	}
	addrs := func(name string) []Address {
		v, ok := h.Get(name)
		if !ok {
			return nil
		}
		return ParseAddressList(v)
	}
	e := &Envelope{
		Date:      get("Date"),
		Subject:   get("Subject"),
		From:      addrs("From"),
		Sender:    addrs("Sender"),
		ReplyTo:   addrs("Reply-To"),
		To:        addrs("To"),
		Cc:        addrs("Cc"),
		Bcc:       addrs("Bcc"),
		InReplyTo: get("In-Reply-To"),
		MessageID: get("Message-ID"),
	}
	if len(e.Sender) == 0 {
		e.Sender = e.From
	}
	if len(e.ReplyTo) == 0 {
		e.ReplyTo = e.From
	}
	return e
}
