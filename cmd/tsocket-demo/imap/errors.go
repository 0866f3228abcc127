package imap

import "errors"

// ErrLineTooLong is returned by NextLine once MaxLine bytes hold no line
// end. Test for it with errors.Is.
var ErrLineTooLong = errors.New("imap: line too long")
