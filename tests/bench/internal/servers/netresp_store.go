package servers

import (
	"errors"
	"sync"

	"github.com/gotevent/gotevent/tests/bench/internal/resp"
)

var (
	respMu    sync.Mutex
	respStore = resp.NewStore()
	errTooBig = errors.New("request larger than the connection buffer")
)
