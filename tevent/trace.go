package tevent

// TracePoint names a moment in one loop iteration, reported to the function
// given with WithTrace (tevent's tevent_set_trace_callback).
type TracePoint int

const (
	// TraceBeforeLoopOnce is reported when an iteration starts.
	TraceBeforeLoopOnce TracePoint = iota
	// TraceBeforeWait is reported just before the loop waits for fds.
	TraceBeforeWait
	// TraceAfterWait is reported just after the wait returns.
	TraceAfterWait
	// TraceAfterLoopOnce is reported when an iteration ends.
	TraceAfterLoopOnce
)

// String returns the trace point's name.
func (p TracePoint) String() string {
	switch p {
	case TraceBeforeLoopOnce:
		return "before_loop_once"
	case TraceBeforeWait:
		return "before_wait"
	case TraceAfterWait:
		return "after_wait"
	case TraceAfterLoopOnce:
		return "after_loop_once"
	}
	return "unknown"
}
