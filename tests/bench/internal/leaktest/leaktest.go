// Package leaktest holds the goleak options every test package of the
// benchmark module uses: the peers start process-wide goroutines that never
// stop (netpoll's poll loops and goroutine pool when first used, gnet's
// ants pool at package init), which are not leaks of the code under test.
package leaktest

import "go.uber.org/goleak"

// Ignores are the peers' process-wide goroutines.
func Ignores() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/cloudwego/netpoll.(*defaultPoll).Wait"),
		goleak.IgnoreAnyFunction("github.com/bytedance/gopkg/util/gopool.(*worker).run.func1"),
		goleak.IgnoreAnyFunction("github.com/cloudwego/netpoll.(*manager).Run.gowrap1"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
		goleak.IgnoreAnyFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
	}
}
