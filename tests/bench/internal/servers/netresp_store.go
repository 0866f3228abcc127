package servers

import (
	"sync"

	"github.com/gotevent/gotevent/cmd/tsocket-demo/resp"
)

var (
	respMu    sync.Mutex
	respStore = resp.NewStore()
)
