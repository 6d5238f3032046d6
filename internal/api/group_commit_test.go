package api_test

import (
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentActionsKeepTheirOwnOutcomes sends quote actions at once,
// some of which must fail with 409, so that they share group commits: each
// request gets its own answer, the refused ones leave nothing behind, and
// every accepted send starts its run and sends its first email.
func TestConcurrentActionsKeepTheirOwnOutcomes(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		f := newFlow(t, x, nil, nil)
		const sends, refused = 24, 8
		quotes := make([]string, sends+refused)
		for i := range quotes {
			quotes[i] = f.quote()
		}
		statuses := make([]int, len(quotes))
		var wg sync.WaitGroup
		for i, q := range quotes {
			action := "send"
			if i >= sends {
				action = "accept" // a draft cannot be accepted: 409
			}
			wg.Go(func() { statuses[i] = f.call("POST", "/v1/quotes/"+q+"/"+action, f.key, nil).Status })
		}
		wg.Wait()
		for i, s := range statuses {
			want := 200
			if i >= sends {
				want = 409
			}
			if s != want {
				t.Errorf("quote %d: status %d, want %d", i, s, want)
			}
		}
		for i, q := range quotes[sends:] {
			got := f.must(200, "GET", "/v1/quotes/"+q, f.key, nil)
			if got["status"] != "draft" {
				t.Errorf("refused quote %d is %v, want draft", i, got["status"])
			}
			if evs := f.must(200, "GET", "/v1/events?quote_id="+q, f.key, nil)["items"].([]any); len(evs) != 0 {
				t.Errorf("refused quote %d has %d events, want none", i, len(evs))
			}
		}
		eventually(t, "every sent quote's first email is sent", func() (bool, string) {
			n := 0
			for _, q := range quotes[:sends] {
				msgs := f.must(200, "GET", "/v1/messages?quote_id="+q+"&status=sent", f.key, nil)["items"].([]any)
				n += len(msgs)
			}
			return n == sends, fmt.Sprint(n, " of ", sends, " sent")
		})
	})
}

// TestOverrideAddedAfterActionsApplies: quote actions skip looking for a
// lead's overrides while the tenant has none, which is cached with the
// rule set; the first override must end that at once.
func TestOverrideAddedAfterActionsApplies(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		f := newFlow(t, x, nil, nil)
		first := f.must(200, "POST", "/v1/quotes/"+f.quote()+"/send", f.key, nil)
		if d := first["event"].(map[string]any)["decision"].(map[string]any); d["outcome"] != "workflow" {
			t.Fatalf("before any override: %v", d)
		}
		f.must(201, "POST", "/v1/leads/"+f.lead+"/overrides", f.key, map[string]any{"trigger": "quote.sent", "action": "suppress"})
		second := f.must(200, "POST", "/v1/quotes/"+f.quote()+"/send", f.key, nil)
		if d := second["event"].(map[string]any)["decision"].(map[string]any); d["outcome"] != "suppressed" || d["source"] != "override" {
			t.Fatalf("after the override: outcome %v source %v, want suppressed by the override", d["outcome"], d["source"])
		}
	})
}
