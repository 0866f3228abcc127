package imap

// IdleCommand is idleCommand, for the tests.
var IdleCommand = idleCommand
