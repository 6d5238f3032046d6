package api_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

const dashboardPath = "../../docs/ops/grafana-dashboard.json"

// dashboardExprs returns every PromQL expression of the dashboard's
// panels (rows' nested panels included), keyed by panel title.
func dashboardExprs(t *testing.T) map[string][]string {
	t.Helper()
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var d struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	out := map[string][]string{}
	var walk func([]json.RawMessage)
	walk = func(ps []json.RawMessage) {
		for _, r := range ps {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("%s: %v", dashboardPath, err)
			}
			for _, tg := range p.Targets {
				out[p.Title] = append(out[p.Title], tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

var (
	// promStrings are quoted strings (label values, regexes).
	promStrings = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	// promMatchers are label matcher sets and range or subquery selectors.
	promMatchers = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	// promGroupings are the label lists of aggregations and vector matching.
	promGroupings = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent     = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	promKeywords  = []string{"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"}
)

// metricNames returns the metric names an expression selects: what is
// left of it once strings, matchers, ranges, grouping label lists,
// function calls, keywords and numbers are taken away.
func metricNames(expr string) []string {
	e := promStrings.ReplaceAllString(expr, " ")
	e = promMatchers.ReplaceAllString(e, " ")
	e = promGroupings.ReplaceAllString(e, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(e, -1) {
		name := e[loc[0]:loc[1]]
		rest := strings.TrimLeft(e[loc[1]:], " \t\n")
		if strings.HasPrefix(rest, "(") || slices.Contains(promKeywords, strings.ToLower(name)) {
			continue // a function or an aggregation, or a keyword
		}
		if loc[0] > 0 && (e[loc[0]-1] >= '0' && e[loc[0]-1] <= '9' || e[loc[0]-1] == '.') {
			continue // the exponent or unit of a number (1e3, 0.95)
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

func TestMetricNamesOfPromQL(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (trigger, channel) (rate(quoteflow_attempts_total{outcome="sent", x=~"a|b"}[$__rate_interval]))`: {"quoteflow_attempts_total"},
		`histogram_quantile(0.95, sum by (le) (rate(a_seconds_bucket[5m])))`:                                     {"a_seconds_bucket"},
		`sum(rate(x_total{status=~"5.."}[1h])) / sum without (route) (rate(y_total[1h])) > bool 0.5`:             {"x_total", "y_total"},
		`max by (kind) (q) * on (kind) group_left (state) r offset 5m`:                                           {"q", "r"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}

// checkDashboard fails unless every query of the Grafana dashboard names
// only metrics that s, a scrape of a server after a run, holds. A
// histogram's _bucket, _sum and _count series count as its family.
func checkDashboard(t *testing.T, s scrape) {
	t.Helper()
	exprs := dashboardExprs(t)
	if len(exprs) < 10 {
		t.Fatalf("the dashboard has %d panels with queries; the check would prove little", len(exprs))
	}
	for title, es := range exprs {
		for _, e := range es {
			names := metricNames(e)
			if len(names) == 0 {
				t.Errorf("panel %q: no metric in %s", title, e)
			}
			for _, n := range names {
				if !exported(s, n) {
					t.Errorf("panel %q: %s is not a metric the server exports (%s)", title, n, e)
				}
			}
		}
	}
}

func exported(s scrape, name string) bool {
	if _, ok := s[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f, ok := s[base]; ok && f.GetType() == dto.MetricType_HISTOGRAM {
				return true
			}
		}
	}
	return false
}
