package errno_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/gotevent/gotevent/internal/errno"
)

func TestSentinel(t *testing.T) {
	busy := errno.New("pkg: busy", syscall.EBUSY)
	other := errno.New("pkg: also busy", syscall.EBUSY)
	wrapped := fmt.Errorf("doing it: %w", busy)
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"itself", busy, busy, true},
		{"its errno", busy, syscall.EBUSY, true},
		{"its errno through a wrapper", wrapped, syscall.EBUSY, true},
		{"itself through a wrapper", wrapped, busy, true},
		{"another errno", busy, syscall.EINVAL, false},
		{"another sentinel with the same errno", busy, other, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("%s: errors.Is(%v, %v) = %v, want %v", tt.name, tt.err, tt.target, got, tt.want)
		}
	}
	if got := busy.Error(); got != "pkg: busy" {
		t.Errorf("Error() = %q, want %q", got, "pkg: busy")
	}
	if errors.Unwrap(busy) != nil {
		t.Error("a sentinel unwraps to its errno; it should only match it")
	}
}
