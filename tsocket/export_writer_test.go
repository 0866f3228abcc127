package tsocket

// Drains returns how many WriterDrainSend requests wait on w, so tests can
// see that one that timed out, was cancelled or abandoned is gone.
func (w *Writer) Drains() int { return len(w.drains) }
