package api

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are marshalled here; failing is a bug.
		panic(err)
	}
	return b
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// body wraps a response body.
type body[T any] struct {
	Body T
}

// versioned wraps a response body of an editable resource with its ETag.
type versioned[T any] struct {
	ETag string `header:"ETag"`
	Body T
}

func withETag[T any](v T, version int64) *versioned[T] {
	return &versioned[T]{ETag: etag(version), Body: v}
}

// timePtr returns t as a pointer, nil for the zero time.
func timePtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// inTime is timePtr for an instant a client sent: a present zero instant
// (0001-01-01T00:00:00Z) stays present, so that it is refused as out of
// range instead of being stored as no instant at all.
func inTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// nonNil returns s, or an empty slice for nil so that JSON says [] not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// NullableTime is a timestamp in a PATCH body that may be null to clear it.
type NullableTime struct {
	Set   bool
	Value *time.Time
}

// UnmarshalJSON records that the field was present, and whether it was null.
func (n *NullableTime) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Value = nil
		return nil
	}
	var t time.Time
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	n.Value = &t
	return nil
}

// Schema implements huma.SchemaProvider.
func (NullableTime) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "date-time", Nullable: true}
}

func itoa(i int) string { return strconv.Itoa(i) }
