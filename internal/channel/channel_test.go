package channel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/quoteflow/quoteflow/internal/channel"
)

func TestClassOf(t *testing.T) {
	t.Parallel()
	transient := &channel.Error{Class: channel.Transient, Code: "timeout"}
	for _, c := range []struct {
		name string
		err  error
		want channel.Class
	}{
		{"nil", nil, ""},
		{"an *Error", transient, channel.Transient},
		{"a wrapped *Error", fmt.Errorf("sending: %w", &channel.Error{Class: channel.Recipient}), channel.Recipient},
		{"a context deadline", context.DeadlineExceeded, channel.Unknown},
		{"anything else", errors.New("connection reset"), channel.Unknown},
	} {
		if got := channel.ClassOf(c.err); got != c.want {
			t.Errorf("%s: ClassOf = %q, want %q", c.name, got, c.want)
		}
	}
}
