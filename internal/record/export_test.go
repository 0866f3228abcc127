package record

// Work returns how many bytes b has searched for delimiters and how many it
// has moved (compacting or growing), so tests can check that both stay
// linear in the input.
func Work(b *Buffer) (scanned, copied int) { return b.scanned, b.copied }
