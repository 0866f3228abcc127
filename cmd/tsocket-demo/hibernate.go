package main

import (
	"errors"
	"io"
)

func runHibernator(args []string, stderr io.Writer) error {
	return errors.New("imap-hibernate: not yet")
}
