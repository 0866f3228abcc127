package servers

import (
	"errors"
	"sync"

	resp "github.com/gotevent/gotevent/internal/demo"
)

var (
	respMu    sync.Mutex
	respStore = resp.NewStore()
	errTooBig = errors.New("request larger than the connection buffer")
)
