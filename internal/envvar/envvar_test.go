package envvar

import (
	"testing"
	"time"
)

func TestDefaultsAndOverrides(t *testing.T) {
	env := map[string]string{"N": "7", "F": "0.5", "D": "250ms", "BAD": "x"}
	get := func(k string) string { return env[k] }
	if Int(get, "N", 1) != 7 || Int(get, "BAD", 1) != 1 || Int(get, "UNSET", 3) != 3 {
		t.Error("Int")
	}
	if Float(get, "F", 1) != 0.5 || Float(get, "BAD", 2) != 2 {
		t.Error("Float")
	}
	if Duration(get, "D", time.Second) != 250*time.Millisecond || Duration(get, "BAD", time.Second) != time.Second {
		t.Error("Duration")
	}
}
