package tmpl

import (
	"strings"
	"testing"
)

// TestValidateRefusesLiteralLoops: a loop whose literal range can never
// render (more than 10000 items, or nested literal loops past the work
// budget) is refused by Validate, at the loop, so that a workflow holding
// it is refused when saved rather than failing every message; loops that
// fit, and loops bounded by data, are accepted (issue 12, defect 6).
func TestValidateRefusesLiteralLoops(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		msg       string
	}{
		{"huge range", "Hi\n{% for i in (1..100000000) %}x{% endfor %}", 2, "more than 10000 items"},
		{"tablerow", "{% tablerow i in ( -5 .. 20000 ) %}x{% endtablerow %}", 1, "more than 10000 items"},
		{"a limit does not shrink the range", "{% for i in (1..20000) limit: 10 %}x{% endfor %}", 1, "more than 10000 items"},
		{"nested", "{% for i in (1..10000) %}\n{% for j in (1..10000) %}x{% endfor %}{% endfor %}", 2, "too much work"},
		{"a limit counts", "{% for i in (1..10000) limit: 2000 %}{% for j in (1..10000) %}x{% endfor %}{% endfor %}", 1, "runs 20000000 times"},
		{"nested under a condition", "{% for i in (1..1000) %}{% if i > 1 %}{% for j in (1..1000) %}x{% endfor %}{% endif %}{% endfor %}", 1, "runs 1000000 times"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := fieldErrors(t, Validate(tc.src))
			if len(fe) != 1 || fe[0].Line != tc.line || fe[0].Column == 0 || !strings.Contains(fe[0].Message, tc.msg) {
				t.Fatalf("got %+v, want one problem at line %d with %q", fe, tc.line, tc.msg)
			}
		})
	}
	for _, src := range []string{
		"{% for i in (1..10000) %}x{% endfor %}",
		"{% for i in (1..10000) limit: 4 %}{% for j in (1..10000) %}x{% endfor %}{% endfor %}",
		"{% for i in (1..10) %}{% for j in (1..1000) %}x{% endfor %}{% endfor %}",
		"{% for i in (1..10000) %}x{% endfor %}{% for j in (1..10000) %}y{% endfor %}",
		"{% for t in lead.tags %}{% for i in (1..10000) %}x{% endfor %}{% endfor %}",
		"{% for i in (10..1) %}x{% endfor %}",
	} {
		if err := Validate(src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

// TestLiteralLoopCheckMatchesRender: what Validate refuses for its literal
// ranges fails at render when the same bounds come from data, and what it
// accepts renders, so the save-time check refuses nothing that could work.
func TestLiteralLoopCheckMatchesRender(t *testing.T) {
	for src, fails := range map[string]bool{
		"{% for i in (1..a) %}{% for j in (1..b) %}x{% endfor %}{% endfor %}":                          true,
		"{% for i in (1..c) %}{% for j in (1..b) %}x{% endfor %}{% endfor %}":                          false,
		"{% for i in (1..b) limit: 4 %}{% for j in (1..b) %}x{% endfor %}{% endfor %}":                 false,
		"{% for i in (1..b) limit: 2000 %}{% for j in (1..b) %}x{% endfor %}{% endfor %}":              true,
		"{% for i in (1..c) %}{% if i > 1 %}{% for j in (1..c) %}x{% endfor %}{% endif %}{% endfor %}": false,
	} {
		literal := strings.NewReplacer("(1..a)", "(1..1000)", "(1..b)", "(1..10000)", "(1..c)", "(1..5)").Replace(src)
		data := "{% assign a = 1000 %}{% assign b = 10000 %}{% assign c = 5 %}" + src
		_, err := renderTemplate(data, fullTemplateContext())
		if (err != nil) != fails {
			t.Errorf("%s with bounds from data: err = %v, want failure %v", src, err, fails)
		}
		if verr := Validate(literal); (verr != nil) != fails {
			t.Errorf("%s: Validate = %v, want refusal %v", literal, verr, fails)
		}
	}
}
