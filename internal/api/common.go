package api

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/engine"
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are marshalled here; failing is a bug.
		panic(err)
	}
	return b
}

// IfMatch is the If-Match header of an edit. Its value is the version the
// client last read, as the ETag returned it ("3", quoted or not).
type IfMatch struct {
	IfMatch string `header:"If-Match" doc:"The version the edit is based on, as the ETag gave it; a mismatch is 412."`
}

// version returns the version If-Match names: 0 when absent or "*".
func (m IfMatch) version() (int64, error) {
	v := strings.TrimSpace(m.IfMatch)
	if v == "" || v == "*" {
		return 0, nil
	}
	v = strings.TrimPrefix(v, "W/")
	v = strings.Trim(v, `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, engine.Errorf(engine.EPRECONDITION, "If-Match must be a version number such as \"3\"")
	}
	return n, nil
}

func etag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// PageParams are a list's cursor parameters.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"How many items at most"`
	Cursor string `query:"cursor" doc:"The next_cursor of the previous page"`
}

func (p PageParams) page() engine.Page { return engine.Page{Limit: p.Limit, After: p.Cursor} }

// List is a page of items and the cursor of the next page, empty at the end.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func listOf[S, T any](items []S, next string, conv func(*S) T) List[T] {
	out := List[T]{Items: make([]T, len(items)), NextCursor: next}
	for i := range items {
		out.Items[i] = conv(&items[i])
	}
	return out
}

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
