package imap

import (
	"github.com/gotevent/gotevent/tevent"
	"github.com/gotevent/gotevent/tsocket"
)

// hibernation is the server's side of the hibernation process.
type hibernation struct{}

func (h *hibernation) shutdown() {}
func (h *hibernation) close()    {}

// canHibernate reports whether the connection may be handed to the
// hibernation process once it has idled HibernateAfter.
func (c *conn) canHibernate() bool {
	return false
}

// hibernate hands the idling connection over.
func (c *conn) hibernate() {}

// ExecHibernator returns a Config.StartHibernator that runs this program
// as "imap-hibernate".
func ExecHibernator(cfg Config) func(ev *tevent.Context) (*tsocket.Stream, error) {
	return nil
}
