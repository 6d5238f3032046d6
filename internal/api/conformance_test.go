package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Every answer the API tests receive is checked against docs/openapi.json
// (env.call): its status must be one the operation lists (500 and 503
// excepted, which are default), its media type one the response declares,
// and a JSON body must fit the schema: types and nullability, enums,
// required and unknown fields, the oneOf of steps and conditions. So the
// document cannot promise what the server does not do, such as an array
// that is never null.

var (
	docOnce sync.Once
	doc     map[string]any
	docErr  error
)

func openAPIDoc() (map[string]any, error) {
	docOnce.Do(func() {
		raw, err := os.ReadFile("../../docs/openapi.json")
		if err != nil {
			docErr = err
			return
		}
		docErr = json.Unmarshal(raw, &doc)
	})
	return doc, docErr
}

// findOperation returns the operation of the document serving method and
// the URL path, nil when the document has none (its own pages).
func findOperation(d map[string]any, method, urlPath string) (string, map[string]any) {
	segs := strings.Split(urlPath, "/")
	for tmpl, item := range d["paths"].(map[string]any) {
		ts := strings.Split(tmpl, "/")
		if len(ts) != len(segs) {
			continue
		}
		match := true
		for i := range ts {
			if ts[i] != segs[i] && !(strings.HasPrefix(ts[i], "{") && segs[i] != "") {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		if op, ok := item.(map[string]any)[strings.ToLower(method)].(map[string]any); ok {
			return tmpl, op
		}
	}
	return "", nil
}

func checkConformance(t *testing.T, method, target string, status int, contentType string, raw []byte) {
	t.Helper()
	d, err := openAPIDoc()
	if err != nil {
		t.Fatalf("reading the document: %v", err)
	}
	urlPath, _, _ := strings.Cut(target, "?")
	tmpl, op := findOperation(d, method, urlPath)
	if op == nil {
		return
	}
	where := fmt.Sprintf("%s %s (%s) answered %d", method, tmpl, op["operationId"], status)
	responses := op["responses"].(map[string]any)
	res, ok := responses[strconv.Itoa(status)].(map[string]any)
	if !ok {
		if status != 500 && status != 503 {
			t.Errorf("%s, a status the document does not list for it: %s", where, raw)
		}
		res, ok = responses["default"].(map[string]any)
		if !ok {
			return
		}
	}
	content, _ := res["content"].(map[string]any)
	if len(raw) == 0 || content == nil {
		return
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	media, ok := content[mt].(map[string]any)
	if !ok {
		t.Errorf("%s with %s, which the document does not declare", where, mt)
		return
	}
	if !strings.HasSuffix(mt, "json") {
		return
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Errorf("%s with invalid JSON: %v", where, err)
		return
	}
	var errs []string
	validate(d, media["schema"], v, "body", &errs)
	for _, e := range errs {
		t.Errorf("%s: %s", where, e)
	}
}

// validate checks v against the subset of JSON Schema the document uses.
func validate(d map[string]any, schema any, v any, at string, errs *[]string) {
	s, _ := schema.(map[string]any)
	if s == nil {
		return
	}
	if r, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(r, "#/components/schemas/")
		validate(d, d["components"].(map[string]any)["schemas"].(map[string]any)[name], v, at, errs)
	}
	if branches, ok := s["oneOf"].([]any); ok {
		n := 0
		var why []string
		for _, b := range branches {
			var e []string
			validate(d, b, v, at, &e)
			if len(e) == 0 {
				n++
			} else {
				why = append(why, e[0])
			}
		}
		if n != 1 {
			*errs = append(*errs, fmt.Sprintf("%s matches %d of the oneOf branches, not 1 (%s)", at, n, strings.Join(why, "; ")))
		}
	}
	for _, b := range anySlice(s["allOf"]) {
		validate(d, b, v, at, errs)
	}
	if t, ok := s["type"]; ok {
		types := anySlice(t)
		if str, ok := t.(string); ok {
			types = []any{str}
		}
		if !slices.ContainsFunc(types, func(t any) bool { return isType(v, t.(string)) }) {
			*errs = append(*errs, fmt.Sprintf("%s is %s, not of type %v", at, short(v), t))
			return
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		*errs = append(*errs, fmt.Sprintf("%s is %s, not one of %v", at, short(v), enum))
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range anySlice(s["required"]) {
			if _, ok := v[r.(string)]; !ok {
				*errs = append(*errs, fmt.Sprintf("%s lacks the required %s", at, r))
			}
		}
		for k, val := range v {
			if p, ok := props[k]; ok {
				validate(d, p, val, at+"."+k, errs)
			} else if s["additionalProperties"] == false {
				*errs = append(*errs, fmt.Sprintf("%s has %s, which the schema does not declare", at, k))
			}
		}
	case []any:
		for i, item := range v {
			validate(d, s["items"], item, at+"["+strconv.Itoa(i)+"]", errs)
		}
	}
}

func anySlice(v any) []any { s, _ := v.([]any); return s }

func isType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		b = append(b[:77], "..."...)
	}
	return string(b)
}

// TestConformanceCheckRefuses: the check finds what it is there for.
func TestConformanceCheckRefuses(t *testing.T) {
	d, err := openAPIDoc()
	if err != nil {
		t.Fatal(err)
	}
	ref := func(name string) any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	for _, c := range []struct {
		schema string
		body   string
	}{
		{"Decision", `{"outcome": "maybe", "source": "rule", "reason": "rule_matched", "missing_fields": [], "trace": []}`},
		{"Decision", `{"outcome": "none", "source": "rule", "reason": "rule_matched", "missing_fields": null, "trace": []}`},
		{"Step", `{"id": "s1", "type": "send_email", "wait": {"duration": "P1D"}}`},
		{"Condition", `{"field": "lead.country", "op": "like", "value": "P%"}`},
		{"TenantOut", `{"id": "t", "name": "n", "timezone": "UTC", "mode": "engine", "quiet_hours": 3, "holidays": [], "channels": {}, "version": 1, "created_at": "x", "updated_at": "x"}`},
	} {
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatal(err)
		}
		var errs []string
		validate(d, ref(c.schema), v, "body", &errs)
		if len(errs) == 0 {
			t.Errorf("%s accepted %s", c.schema, c.body)
		}
	}
	var v any
	_ = json.Unmarshal([]byte(`{"all": [{"field": "lead.country", "op": "eq", "value": "PT"}, {"any": []}]}`), &v)
	var errs []string
	validate(d, ref("Condition"), v, "body", &errs)
	if len(errs) != 0 {
		t.Errorf("a valid condition refused: %v", errs)
	}
}
