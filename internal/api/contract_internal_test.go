package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"

	"github.com/quoteflow/quoteflow/internal/app"
)

func documentedServer() *Server {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return New(app.New(nil, nil, app.Config{}, log), log, Options{})
}

func operations(doc *huma.OpenAPI) []*huma.Operation {
	var ops []*huma.Operation
	for _, item := range doc.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch, item.Head, item.Options} {
			if op != nil {
				ops = append(ops, op)
			}
		}
	}
	return ops
}

// TestEveryOperationIsDescribed keeps descriptions.go complete: a new
// operation cannot come without a description and a declared tag, and an
// operation's errors follow from who may call it.
func TestEveryOperationIsDescribed(t *testing.T) {
	doc := documentedServer().OpenAPI()
	declared := map[string]bool{}
	for _, tag := range doc.Tags {
		declared[tag.Name] = true
	}
	seen := map[string]bool{}
	for _, op := range operations(doc) {
		id := op.OperationID
		seen[id] = true
		if descriptions[id].text == "" || op.Description == "" {
			t.Errorf("%s %s (%s) has no description in descriptions.go", op.Method, op.Path, id)
		}
		if op.Summary == "" {
			t.Errorf("%s has no summary", id)
		}
		if len(op.Tags) == 0 {
			t.Errorf("%s has no tag", id)
		}
		for _, tag := range op.Tags {
			if !declared[tag] {
				t.Errorf("%s has the undeclared tag %q", id, tag)
			}
		}
		need, _ := op.Metadata["access"].(access)
		want := []int{}
		switch need {
		case accessApp, accessOperator:
			want = []int{401}
		case accessAdmin:
			want = []int{401, 403}
		}
		for _, status := range want {
			r := op.Responses[strconv.Itoa(status)]
			if r == nil || r.Content["application/problem+json"] == nil {
				t.Errorf("%s (%s) does not document %d as a problem", id, need, status)
			}
		}
	}
	for id := range descriptions {
		if !seen[id] {
			t.Errorf("descriptions.go describes %s, which is not an operation", id)
		}
	}
}

// TestProblemTypesAreDocumented: every problem type the code can produce
// (every status the domain codes map to, and every status huma itself
// answers with, through problemKinds) is in the document's Problem.type and
// in docs/api/errors.md.
func TestProblemTypesAreDocumented(t *testing.T) {
	for code, status := range statusByCode {
		if problemKinds[status] == "" {
			t.Errorf("domain code %s maps to %d, which has no problem type", code, status)
		}
	}
	raw, err := json.Marshal(documentedServer().OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var inDoc []string
	for _, v := range doc.Components.Schemas["Problem"].Properties["type"]["x-extensible-enum"].([]any) {
		inDoc = append(inDoc, v.(string))
	}
	md, err := os.ReadFile("../../docs/api/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range problemTypes() {
		if !slices.Contains(inDoc, typ) {
			t.Errorf("Problem.type does not list %s", typ)
		}
		if !strings.Contains(string(md), "`"+typ+"`") {
			t.Errorf("docs/api/errors.md does not describe %s", typ)
		}
	}
}

// TestSchemaDocsMatchTheTypes: every schema schemaDocs documents is in the
// document, so that renaming a Go type cannot silently drop its enums.
func TestSchemaDocsMatchTheTypes(t *testing.T) {
	schemas := documentedServer().OpenAPI().Components.Schemas.Map()
	for name := range schemaDocs {
		if schemas[name] == nil {
			t.Errorf("schemaDocs documents %s, which is not a schema of the document", name)
		}
	}
}
