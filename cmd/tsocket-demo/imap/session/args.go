package session

import "github.com/gotevent/gotevent/cmd/tsocket-demo/imap/proto"

// args reads a command's arguments and keeps the first error, so a
// handler reads them all and checks once, as bufio.Scanner does.
type args struct {
	*proto.Cursor
	err error
}

// get calls read unless an earlier read failed.
func get[T any](a *args, read func() (T, error)) T {
	var v T
	if a.err == nil {
		v, a.err = read()
	}
	return v
}

// end checks that no argument is left over and returns the first error.
func (a *args) end() error {
	if a.err == nil {
		a.err = a.End()
	}
	return a.err
}
