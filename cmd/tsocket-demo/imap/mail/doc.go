// Package mail is the IMAP server's mailbox model: users ([Users], from a
// "name:password" file), their mailboxes ([Store], [Account], [Mailbox])
// and messages ([Message]: UID, flags, INTERNALDATE, size, raw bytes),
// over a storage [Backend]: [NewMemory], or [NewMaildir] for a Maildir++
// per user with UIDs in a uidlist file.
//
//	st := mail.NewStore(mail.NewMemory(time.Now))
//	acct, _ := st.Account("demo")
//	inbox, _ := acct.Mailbox("INBOX")
//	cancel := inbox.Watch(w) // w.MailboxChanged(inbox) after every change
//	inbox.Append(raw, nil, time.Now())
//
// # Sharing a mailbox
//
// Every session of a user gets the same *Mailbox, so one session's
// APPEND, STORE and EXPUNGE are seen by the others. A mailbox carries a
// modification sequence bumped by every change, with each message's last
// change recorded, and the sequence of its last expunge. A session keeps
// its own view (the UIDs it has announced, in sequence order, and the
// modification sequence it has reported up to) and, when RFC 3501 lets it
// speak, compares that view with the mailbox to send EXISTS, EXPUNGE and
// FETCH FLAGS. A [Watcher] is told of each change as it happens, so a
// session in IDLE can push them at once.
//
// # Goroutines
//
// All of this belongs to one goroutine, the loop that runs the sessions:
// a Store and what it returns have no locks, and watchers are called
// synchronously from the method that made the change. [Users] is
// read-only and may be shared.
package mail
