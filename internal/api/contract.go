package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// This file makes the generated OpenAPI document precise enough to build a
// client on (issue 9, parts 1 and 2) without changing what the server
// accepts: the request validation huma derives from the Go types stays as it
// is, and the app's validators keep answering with problems that name the
// exact field (body.steps[0].email.subject), which a JSON Schema oneOf
// could not do. What is added here is documentation of behaviour the server
// already has:
//
//   - documentOperation, a huma OnAddOperation hook: each operation's
//     description (descriptions.go) and the error statuses it can answer,
//     derived from its access level, its parameters and its body;
//   - docRegistry, which wraps huma's schema registry and, when the document
//     is written, applies schemaDocs: enums, the step union, the recursive
//     condition, arrays that are never null, nullability as served.

// problemSchemaRef is where the Problem schema lives in the document.
const problemSchemaRef = "#/components/schemas/Problem"

// documentOperation completes an operation's documentation once huma has
// built it: its description, its error responses, and the media types of
// the WhatsApp webhook that huma cannot infer.
func documentOperation(_ *huma.OpenAPI, op *huma.Operation) {
	if d, ok := descriptions[op.OperationID]; ok {
		op.Description = d.text
	}
	if op.Responses == nil {
		op.Responses = map[string]*huma.Response{}
	}
	for _, status := range errorStatuses(op) {
		code := strconv.Itoa(status)
		if _, ok := op.Responses[code]; ok {
			continue
		}
		op.Responses[code] = &huma.Response{
			Description: http.StatusText(status) + ": " + problemKinds[status] + " problem",
			Content: map[string]*huma.MediaType{
				"application/problem+json": {Schema: &huma.Schema{Ref: problemSchemaRef}},
			},
		}
	}
	if _, ok := op.Responses["default"]; !ok {
		// v1 documented every error as default; it stays for the statuses an
		// operation cannot foresee (500, 503).
		op.Responses["default"] = &huma.Response{
			Description: "Any other error, as a problem",
			Content: map[string]*huma.MediaType{
				"application/problem+json": {Schema: &huma.Schema{Ref: problemSchemaRef}},
			},
		}
	}
	switch op.OperationID {
	case "whatsapp-webhook":
		// Meta posts JSON; the handler reads the raw bytes because the
		// signature covers them exactly. octet-stream stays: v1 declared it.
		if rb := op.RequestBody; rb != nil {
			rb.Content["application/json"] = &huma.MediaType{Schema: &huma.Schema{
				Type: huma.TypeObject, Description: "The WhatsApp Cloud API webhook payload, as Meta sends it; X-Hub-Signature-256 signs these exact bytes"}}
		}
	case "verify-whatsapp-webhook":
		if r := op.Responses["200"]; r != nil {
			r.Content = map[string]*huma.MediaType{"text/plain": {Schema: &huma.Schema{
				Type: huma.TypeString, Description: "hub.challenge, echoed back"}}}
		}
	}
}

// errorStatuses lists the statuses other than 2xx an operation can answer
// with, from what it declares: credentials (401, 403), path parameters
// (404), a body (400, 413, 415, 422) or parameters (422), If-Match (412),
// Idempotency-Key (409 while the first request runs, 422 when reused for
// another body), and what its handler adds (descriptions.go).
func errorStatuses(op *huma.Operation) []int {
	set := map[int]bool{}
	need, _ := op.Metadata["access"].(access)
	switch need {
	case accessOperator, accessApp:
		set[http.StatusUnauthorized] = true
	case accessAdmin:
		set[http.StatusUnauthorized], set[http.StatusForbidden] = true, true
	}
	for _, p := range op.Parameters {
		switch {
		case p.In == "path":
			set[http.StatusNotFound] = true
			set[http.StatusUnprocessableEntity] = true
		case p.In == "header" && p.Name == "If-Match":
			set[http.StatusPreconditionFailed] = true
		case p.In == "header" && p.Name == "Idempotency-Key":
			set[http.StatusConflict] = true
			set[http.StatusUnprocessableEntity] = true
		case p.In == "query":
			set[http.StatusUnprocessableEntity] = true
		}
	}
	if op.RequestBody != nil {
		set[http.StatusBadRequest] = true
		set[http.StatusRequestEntityTooLarge] = true
		set[http.StatusUnsupportedMediaType] = true
		set[http.StatusUnprocessableEntity] = true
	}
	for _, s := range descriptions[op.OperationID].errors {
		set[s] = true
	}
	out := make([]int, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

// problemTypes are the problem types the service can answer with, in the
// document as Problem.type's x-extensible-enum and in docs/api/errors.md
// (a test checks both).
func problemTypes() []string {
	out := make([]string, 0, len(problemKinds))
	for _, k := range problemKinds {
		out = append(out, problemTypePrefix+k)
	}
	slices.Sort(out)
	return out
}

// docRegistry is huma's registry with schemaDocs applied when the document
// is written. Validation looks schemas up through the embedded registry, so
// it is unchanged.
type docRegistry struct {
	huma.Registry
}

// MarshalJSON writes the schemas with schemaDocs applied.
func (r docRegistry) MarshalJSON() ([]byte, error) {
	m, err := r.documented()
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// MarshalYAML serves the same for /v1/openapi.yaml.
func (r docRegistry) MarshalYAML() (any, error) { return r.documented() }

func (r docRegistry) documented() (map[string]obj, error) {
	raw, err := json.Marshal(r.Registry.Map())
	if err != nil {
		return nil, err
	}
	var m map[string]obj
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	applySchemaDocs(m)
	return m, nil
}

// obj is a JSON Schema object as written in the document.
type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func strs(vals ...string) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

func prop(s obj, name string) obj {
	props, _ := s["properties"].(obj)
	p, _ := props[name].(obj)
	if p == nil {
		// A schemaDocs entry naming a field the type does not have is a
		// bug in this file; TestSchemaDocsMatchTheTypes finds it.
		panic("schema has no property " + name)
	}
	return p
}

func setProp(s obj, name string, v obj) {
	prop(s, name) // must exist
	s["properties"].(obj)[name] = v
}

// closed lists a field's values as an enum: a new value is a breaking change.
func closed(s obj, name string, vals ...string) { prop(s, name)["enum"] = strs(vals...) }

// open lists a field's known values; more may come within v1
// (docs/api/VERSIONING.md, open and closed enums).
func open(s obj, name string, vals ...string) {
	p := prop(s, name)
	p["x-extensible-enum"] = strs(vals...)
	d, _ := p["description"].(string)
	if d != "" && !strings.HasSuffix(d, ".") {
		d += "."
	}
	p["description"] = strings.TrimSpace(d + " An open list (x-extensible-enum): the known values are listed, more may be added within v1, so handle an unknown value as a generic one.")
}

// closedItems puts an enum on the items of an array field.
func closedItems(s obj, name string, vals ...string) {
	prop(s, name)["items"].(obj)["enum"] = strs(vals...)
}

// notNull says that an array field is always an array: the server sends [].
func notNull(s obj, names ...string) {
	for _, n := range names {
		prop(s, n)["type"] = "array"
	}
}

// nullableRef turns a $ref field into "that object or null".
func nullableRef(s obj, name, target string, desc string) {
	setProp(s, name, obj{"description": desc, "oneOf": []any{ref(target), obj{"type": "null"}}})
}
