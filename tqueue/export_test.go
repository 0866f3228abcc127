package tqueue

// BelowWaiters returns how many BelowSend requests wait on q, so tests can
// check that a waiter that finished or was abandoned is forgotten.
func BelowWaiters(q *Queue) int {
	if q.below == nil {
		return 0
	}
	return q.below.waiters.Len()
}
