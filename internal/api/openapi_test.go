package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
)

var update = flag.Bool("update", false, "rewrite docs/openapi.json from the code")

// TestOpenAPIDocumentIsCommitted keeps docs/openapi.json, the contract
// clients generate code from, identical to what the server publishes.
func TestOpenAPIDocumentIsCommitted(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := api.New(app.New(nil, nil, app.Config{}, log), log, api.Options{})
	got, err := json.MarshalIndent(srv.OpenAPI(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	const path = "../../docs/openapi.json"
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/api -run OpenAPI -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("docs/openapi.json is out of date: run go test ./internal/api -run OpenAPI -update and commit it")
	}
	var doc map[string]any
	if err := json.Unmarshal(got, &doc); err != nil || doc["openapi"] != "3.1.0" {
		t.Fatalf("not an OpenAPI 3.1 document: %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/v1/tenants", "/v1/leads/{lead_id}/resolution", "/v1/resolver/preview", "/v1/coverage",
		"/v1/workflows/{workflow_id}/steps/reorder", "/v1/assignment-rules/reorder", "/v1/leads/{lead_id}/overrides"} {
		if paths[p] == nil {
			t.Errorf("the document lacks %s", p)
		}
	}
}
