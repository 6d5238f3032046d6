package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestRiverUIIsForTheOperatorOnly serves River's UI and API under
// /ops/river/ and checks who gets in: nobody without the operator token,
// not a tenant's key, the operator by bearer token or by Basic password.
func TestRiverUIIsForTheOperatorOnly(t *testing.T) {
	forEachObservedDB(t, func(t *testing.T, o *observedEnv) {
		key := o.tenant("Acme", nil)
		get := func(path string, auth func(*http.Request)) (int, http.Header, []byte) {
			t.Helper()
			req, _ := http.NewRequest("GET", o.srv.URL+path, nil)
			if auth != nil {
				auth(req)
			}
			res, err := o.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			return res.StatusCode, res.Header, raw
		}
		bearer := func(tok string) func(*http.Request) {
			return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
		}
		for name, auth := range map[string]func(*http.Request){
			"no credentials":     nil,
			"a wrong token":      bearer("not-the-operator"),
			"a tenant's API key": bearer(key),
			"a wrong password":   func(r *http.Request) { r.SetBasicAuth("ops", "nope") },
		} {
			for _, path := range []string{"/ops/river/", "/ops/river/api/jobs?state=completed"} {
				status, h, raw := get(path, auth)
				if status != 401 || !strings.Contains(strings.Join(h.Values("WWW-Authenticate"), ","), "Basic") {
					t.Errorf("%s, %s: %d %v %s", name, path, status, h.Values("WWW-Authenticate"), raw)
				}
				if strings.Contains(string(raw), "run_step") || strings.Contains(string(raw), "<html") {
					t.Errorf("%s, %s: the refusal shows the UI: %s", name, path, raw)
				}
			}
		}
		// The operator sees the page and the queue's jobs, on this database.
		status, h, raw := get("/ops/river/", bearer(operatorToken))
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
			t.Fatalf("the operator's UI page: %d %s %.200s", status, h.Get("Content-Type"), raw)
		}
		// The sweep runs when the queue starts: its job is listed as
		// completed, to the bearer token and to the Basic password alike.
		for _, auth := range []func(*http.Request){bearer(operatorToken), func(r *http.Request) { r.SetBasicAuth("ops", operatorToken) }} {
			eventually(t, "the sweep's job is listed", func() (bool, string) {
				status, _, raw := get("/ops/river/api/jobs?state=completed&limit=20", auth)
				var jobs struct {
					Data []struct {
						Kind string `json:"kind"`
					} `json:"data"`
				}
				if status != 200 || json.Unmarshal(raw, &jobs) != nil {
					t.Fatalf("the operator's job list: %d %.300s", status, raw)
				}
				for _, j := range jobs.Data {
					if j.Kind == "expire_quotes" {
						return true, ""
					}
				}
				return false, string(raw)
			})
		}
		for _, path := range []string{"/ops/river/api/states", "/ops/river/api/features", "/ops/river/api/version",
			"/ops/river/api/autocomplete?facet=job_kind", "/ops/river/api/health-checks/complete", "/ops/river/api/queues/default"} {
			if status, _, raw := get(path, bearer(operatorToken)); status != 200 || !strings.HasPrefix(string(raw), "{") {
				t.Errorf("%s: %d %.200s", path, status, raw)
			}
		}
		status, _, raw = get("/ops/river/api/queues", bearer(operatorToken))
		if status != 200 || !strings.Contains(string(raw), `"default"`) {
			t.Errorf("the operator's queue list: %d %.300s", status, raw)
		}
	})
}
