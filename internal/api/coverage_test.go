package api_test

import "testing"

// GET /v1/coverage lists each rule with the fields it reads and how many
// of the last 30 days' events of its trigger lacked each.
func TestCoverageListsTheFieldsRulesRead(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		w := newWorld(t, e, "engine")
		id := w.rule("pt roofers", "quote.sent", w.wfSent, true,
			`{"all":[{"field":"lead.country","op":"eq","value":"PT"},{"field":"lead.custom.area","op":"gt","value":50}]}`)
		e.must(200, "POST", "/v1/quotes/"+w.quote+"/send", w.key, nil) // the lead has a country, no area
		rep := e.must(200, "GET", "/v1/coverage", w.key, nil)
		if rep["fields_from"] == nil || rep["fields_to"] == nil {
			t.Fatalf("coverage without its window: %v", rep)
		}
		rules := rep["rules"].([]any)
		if len(rules) != 1 {
			t.Fatalf("coverage rules %v, want the one rule", rules)
		}
		r := rules[0].(map[string]any)
		fields := r["fields"].([]any)
		if r["rule_id"] != id || r["trigger"] != "quote.sent" || r["events"] != 1.0 || len(fields) != 2 {
			t.Fatalf("rule coverage %v", r)
		}
		country, area := fields[0].(map[string]any), fields[1].(map[string]any)
		if country["field"] != "lead.country" || country["missing"] != 0.0 || country["missing_share"] != 0.0 ||
			area["field"] != "lead.custom.area" || area["missing"] != 1.0 || area["missing_share"] != 1.0 {
			t.Fatalf("rule fields %v, want lead.country present and lead.custom.area missing in the one event", fields)
		}
	})
}
