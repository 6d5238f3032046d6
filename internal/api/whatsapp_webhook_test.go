package api_test

import (
	"bytes"
	"testing"

	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
)

// TestWebhookNoTenantOracle: an unknown or malformed tenant id on the
// webhook routes is answered byte for byte like a known tenant with a bad
// signature or a wrong verify token, so the routes tell no one which
// tenant ids exist (issue 12, defect 7).
func TestWebhookNoTenantOracle(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		c := newWACase(t, x)
		body, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret)
		forged, forgedSig := whatsapptest.StatusWebhook("not-the-secret")
		want := c.call("POST", "/v1/webhooks/whatsapp/"+c.tenantID, "", string(forged), "X-Hub-Signature-256", forgedSig)
		c.problem(want, 401, "unauthorized")
		query := "?hub.mode=subscribe&hub.challenge=42&hub.verify_token="
		wantGet := c.call("GET", "/v1/webhooks/whatsapp/"+c.tenantID+query+"wrong", "", nil)
		c.problem(wantGet, 403, "forbidden")
		for _, tenant := range []string{"0190b0f0-0000-7000-8000-000000000000", "not-a-tenant", "%20"} {
			got := c.call("POST", "/v1/webhooks/whatsapp/"+tenant, "", string(body), "X-Hub-Signature-256", sig)
			if got.Status != want.Status || !bytes.Equal(got.Raw, want.Raw) {
				t.Errorf("POST for tenant %q: %d %s, want %d %s as for a bad signature", tenant, got.Status, got.Raw, want.Status, want.Raw)
			}
			got = c.call("GET", "/v1/webhooks/whatsapp/"+tenant+query+whatsapptest.VerifyToken, "", nil)
			if got.Status != wantGet.Status || !bytes.Equal(got.Raw, wantGet.Raw) {
				t.Errorf("GET for tenant %q: %d %s, want %d %s as for a wrong verify token", tenant, got.Status, got.Raw, wantGet.Status, wantGet.Raw)
			}
		}
	})
}

// TestReplayedWebhookAddsNoReceipt: the same signed webhook posted again
// is accepted (Meta redelivers until it gets a 200) but records no second
// receipt (issue 12, defect 7).
func TestReplayedWebhookAddsNoReceipt(t *testing.T) {
	forEachExecDB(t, func(t *testing.T, x *execEnv) {
		c := newWACase(t, x)
		ms := c.settled(c.key, "quote_id="+c.send())
		if len(ms) != 1 || ms[0]["status"] != "sent" {
			t.Fatalf("messages %v", ms)
		}
		var req whatsapptest.Request
		for _, r := range c.wa.Requests() {
			if r.HTTPStatus == 200 && len(r.Body.To) > 0 && c.phone[len(c.phone)-len(r.Body.To):] == r.Body.To {
				req = r
			}
		}
		body, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret, req.Receipt("delivered"), req.Receipt("read"))
		hook := "/v1/webhooks/whatsapp/" + c.tenantID
		if got := c.must(200, "POST", hook, "", string(body), "X-Hub-Signature-256", sig); got["applied"] != 2.0 {
			t.Fatalf("first delivery applied %v, want 2", got["applied"])
		}
		for range 2 {
			if got := c.must(200, "POST", hook, "", string(body), "X-Hub-Signature-256", sig); got["applied"] != 0.0 {
				t.Fatalf("a replay applied %v, want 0", got["applied"])
			}
		}
		got := c.detail(str(ms[0]["id"]))
		if n := len(got["receipts"].([]any)); n != 2 || got["status"] != "read" {
			t.Fatalf("after three deliveries of one webhook: %d receipts, status %v; want 2 and read", n, got["status"])
		}
	})
}
