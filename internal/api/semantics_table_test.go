package api

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/app"
)

// TestEveryRouteHasItsSemantics keeps operationSemantics complete: a new
// POST is either idempotent by key or says why not, and the document
// declares what the middlewares do.
func TestEveryRouteHasItsSemantics(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := New(app.New(nil, nil, app.Config{}, log), log, Options{})
	seen := map[string]bool{}
	for path, item := range s.OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPatch: item.Patch,
			http.MethodPut: item.Put, http.MethodDelete: item.Delete} {
			if op == nil {
				continue
			}
			id := op.OperationID
			seen[id] = true
			_, listed := operationSemantics[id]
			_, without := postsWithoutIdempotency[id]
			on, _ := op.Metadata["idempotent"].(bool)
			if method == http.MethodPost && listed == without {
				t.Errorf("%s %s (%s): in operationSemantics %v, in postsWithoutIdempotency %v; want exactly one", method, path, id, listed, without)
			}
			if on != operationSemantics[id].idempotent {
				t.Errorf("%s: idempotent() mark %v, table %v", id, on, operationSemantics[id].idempotent)
			}
			if on {
				if !hasParam(op, "Idempotency-Key") {
					t.Errorf("%s: Idempotency-Key not declared", id)
				}
				for code, r := range op.Responses {
					if code[0] == '2' && r.Headers[hdrReplayed] == nil {
						t.Errorf("%s %s: Idempotent-Replayed not declared", id, code)
					}
				}
			}
			// A paginated answer (a List, or a report with one page of
			// items) takes cursor and limit and has next_cursor; a whole
			// list takes neither.
			ok := op.Responses["200"]
			ref := ""
			if ok != nil && ok.Content["application/json"] != nil && ok.Content["application/json"].Schema != nil {
				ref = ok.Content["application/json"].Schema.Ref
			}
			paged := false
			if sc := s.OpenAPI().Components.Schemas.Map()[strings.TrimPrefix(ref, "#/components/schemas/")]; sc != nil {
				_, paged = sc.Properties["next_cursor"]
			}
			if paged != hasParam(op, "cursor") || paged != hasParam(op, "limit") {
				t.Errorf("%s: answers %q but cursor %v, limit %v", id, ref, hasParam(op, "cursor"), hasParam(op, "limit"))
			}
			if op.Deprecated && op.Extensions["x-sunset"] == nil {
				t.Errorf("%s: deprecated without x-sunset", id)
			}
		}
	}
	for id := range operationSemantics {
		if !seen[id] {
			t.Errorf("operationSemantics names %s, which is not an operation", id)
		}
	}
	for id := range postsWithoutIdempotency {
		if !seen[id] {
			t.Errorf("postsWithoutIdempotency names %s, which is not an operation", id)
		}
	}
}

func TestReplayEnvelope(t *testing.T) {
	stored := sealReplay(map[string]string{"ETag": `"1"`}, []byte(`{"id":"k1","key":"qf_secret"}`), []string{"key"})
	if strings.Contains(string(stored), "qf_secret") {
		t.Fatalf("a redacted field was stored: %s", stored)
	}
	r := openReplay(stored)
	if r.Headers["ETag"] != `"1"` || string(r.Body) != `{"id":"k1"}` {
		t.Fatalf("opened %+v", r)
	}
	// An envelope of version 1 kept the body as JSON.
	if r := openReplay([]byte(`{"quoteflow_replay":1,"headers":{"ETag":"\"2\""},"body":{"id":"w1"}}`)); string(r.Body) != `{"id":"w1"}` || r.Headers["ETag"] != `"2"` {
		t.Fatalf("version 1 envelope opened as %+v", r)
	}
	// The body's bytes are kept as they were, spacing and key order too
	// (PostgreSQL's JSONB would rewrite a JSON value).
	if r := openReplay(sealReplay(nil, []byte("{\"b\": 1, \"a\": 2}\n"), nil)); string(r.Body) != "{\"b\": 1, \"a\": 2}\n" {
		t.Fatalf("the body's bytes came back as %q", r.Body)
	}
	// An answer stored before headers were kept is its bare body.
	if r := openReplay([]byte(`{"id":"l1"}`)); string(r.Body) != `{"id":"l1"}` || r.Headers != nil {
		t.Fatalf("bare body opened as %+v", r)
	}
}

func TestCursorsRoundTrip(t *testing.T) {
	for _, pos := range []string{"01a235ae-1eaf-7714-b591-04c838db9c80", "7"} {
		if got, ok := decodeCursor(encodeCursor(pos)); !ok || got != pos {
			t.Fatalf("%q: decoded %q %v", pos, got, ok)
		}
	}
	for _, bad := range []string{"", "zzz", "c1.", "c1.!!", "c1.AA", "c2." + encodeCursor("x")[3:], "c1." + strings.Repeat("QUFB", 100)} {
		if got, ok := decodeCursor(bad); ok {
			t.Fatalf("%q decoded as %q", bad, got)
		}
	}
}

func TestEntityTagLists(t *testing.T) {
	for v, want := range map[string]bool{`"1"`: true, `"1", W/"2"`: true, `*`: true, `3`: true, ` "1" ,, "2" `: true,
		``: false, `"1`: false, `W/3`: false, `abc`: false, `"a b"`: false} {
		if _, _, ok := parseETags(v); ok != want {
			t.Errorf("parseETags(%q) ok %v, want %v", v, ok, want)
		}
	}
	if !noneMatch(`W/"2"`, `"2"`) || noneMatch(`"3"`, `"2"`) || !noneMatch(`*`, `"2"`) || noneMatch(`junk`, `"2"`) {
		t.Error("If-None-Match comparison")
	}
}
