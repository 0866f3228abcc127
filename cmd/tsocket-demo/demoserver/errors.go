package demoserver

import "errors"

// ErrBufferFull is returned by [Reader.Read], [Reader.ReadNow] and
// [Reader.Add] when the input held reaches the reader's limit: a request larger than a
// connection may buffer. Test for it with errors.Is. The message is what the
// RESP server puts in its error reply, so it carries no package prefix.
var ErrBufferFull = errors.New("request larger than the connection buffer")
