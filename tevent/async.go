package tevent

// asyncPool is the bounded worker pool behind QueueAsyncJob; it is built in
// mask.go's companion file by the callback-mask API.
type asyncPool struct{}
