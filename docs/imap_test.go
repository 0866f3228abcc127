package docs_test

import (
	"fmt"
	"time"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/mail"
	"github.com/gotevent/gotevent/cmd/tsocket-demo/imap/session"
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// newIMAPServer is the demo's IMAP server on l: mail in memory, the one
// user demo:demo, and the timings a daemon wants.
func newIMAPServer(ev *tevent.Context, l *tsocket.Listener, store *mail.Store) (*imap.Server, error) {
	return imap.NewServer(ev, l, imap.Config{
		Session:     session.Config{Store: store, Users: mail.DefaultUsers()},
		IdleTimeout: 30 * time.Minute, // RFC 3501's autologout
		KeepAlive:   2 * time.Minute,  // "* OK Still here" during IDLE
		ByeTimeout:  5 * time.Second,  // then a client that does not read is reset
		Output:      tsocket.WriterLimits{Soft: 1 << 20, Hard: 64 << 20},
	})
}

// Example_imapServer runs the IMAP server of chapter 13 with a client
// on a socketpair: it logs in, selects INBOX and idles, and is told at
// once of a message stored meanwhile.
func Example_imapServer() {
	ev, err := tevent.NewContext()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ev.Close()
	addr, _ := tsocket.InetAddress("ipv4", "127.0.0.1", 0)
	l, err := tsocket.Listen(ev, addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) // UIDVALIDITY comes from the clock
	store := mail.NewStore(mail.NewMemory(func() time.Time { return day }))
	srv, err := newIMAPServer(ev, l, store)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	server, client, err := tsocket.Socketpair(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	srv.Serve(server) // as if accepted

	c := imap.NewClient(ev, client)
	say := func(line string) { c.Send(line) }
	hear := func(n int) {
		for range n {
			line, err := c.ReadLine()
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Println(line)
		}
	}
	hear(1) // the greeting
	say("a1 LOGIN demo demo")
	hear(1)
	say("a2 EXAMINE INBOX")
	hear(7)
	say("a3 IDLE")
	hear(1)

	acct, _ := store.Account("demo")
	inbox, _ := acct.Mailbox("INBOX")
	inbox.Append([]byte("Subject: hello\r\n\r\nhi\r\n"), nil, time.Now())
	hear(2) // pushed at once, by the watcher of the idling session

	say("DONE")
	hear(1)
	say("a4 LOGOUT")
	hear(2)
	// Output:
	// * OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS AUTH=PLAIN] gotevent IMAP4rev1 server ready
	// a1 OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS] Logged in
	// * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
	// * OK [PERMANENTFLAGS ()] No permanent flags permitted
	// * 0 EXISTS
	// * 0 RECENT
	// * OK [UIDVALIDITY 1796083200] UIDs valid
	// * OK [UIDNEXT 1] Predicted next UID
	// a2 OK [READ-ONLY] EXAMINE completed
	// + idling
	// * 1 EXISTS
	// * 1 RECENT
	// a3 OK IDLE terminated
	// * BYE gotevent IMAP4rev1 server logging out
	// a4 OK LOGOUT completed
}
