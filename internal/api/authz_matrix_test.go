package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/api"
	"github.com/quoteflow/quoteflow/internal/app"
	"github.com/quoteflow/quoteflow/internal/channel/logsender"
	"github.com/quoteflow/quoteflow/internal/channel/senders"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp"
	"github.com/quoteflow/quoteflow/internal/channel/whatsapp/whatsapptest"
	"github.com/quoteflow/quoteflow/internal/jobs"
	"github.com/quoteflow/quoteflow/internal/store/storetest"
)

// The route × role × tenant matrix. Every operation of the served OpenAPI
// document is called as every kind of caller, and each answer is checked
// for its status and, when it is an error, for its problem type. The
// expectations are the table authzOps below, one entry per operation id:
// a new operation without an entry fails the test, so that nobody adds a
// route without saying who may call it.

// authzLeakMarker is in the name of everything tenant A owns, so that an
// answer to tenant B that carries any of A's data is found by a substring.
const authzLeakMarker = "ZZA"

// authzCaller is who sends a request.
type authzCaller string

const (
	callerNone        authzCaller = "no key"
	callerMalformed   authzCaller = "malformed key"
	callerUnknown     authzCaller = "unknown key"
	callerWrongSecret authzCaller = "admin key id with a wrong secret"
	callerNotBearer   authzCaller = "admin key without the Bearer scheme"
	callerRevoked     authzCaller = "revoked key"
	callerOperator    authzCaller = "operator token"
	callerApp         authzCaller = "app key"
	callerForeign     authzCaller = "tenant B's admin key with A's ids"
	callerForeignApp  authzCaller = "tenant B's app key with A's ids"
	callerAdminLower  authzCaller = "admin key, scheme in lower case"
	callerAdmin       authzCaller = "admin key"
)

// authzCallers are the callers of every operation that needs credentials,
// in the order they are tried: the admin last, so that an operation that
// changes state has been refused to everyone else first.
var authzCallers = []authzCaller{callerNone, callerMalformed, callerUnknown, callerWrongSecret, callerNotBearer,
	callerRevoked, callerOperator, callerApp, callerForeign, callerForeignApp, callerAdminLower, callerAdmin}

// authzReq is one request: path with its query, a JSON body (nil for none,
// a string for raw bytes sent as is) and extra headers as name, value pairs.
type authzReq struct {
	path    string
	body    any
	headers []string
}

// authzOp is the expectation for one operation.
type authzOp struct {
	// access is who may call it: public, operator, app (any tenant key)
	// or admin (an admin key). It must agree with the document's security.
	access string
	// build returns a valid request on tenant A's fixtures. It runs once
	// per caller, so that an operation that consumes its target (a DELETE,
	// an action allowed once) builds a fresh one each time.
	build func(f *authzFixtures) authzReq
	// ok is the status of a caller allowed to call it; 0 is the
	// operation's success status in the document.
	ok int
	// foreign is the status tenant B's admin key gets with build's
	// request; 0 means 404 when the request names A's ids in its path,
	// else ok (B's own data, checked for none of A's).
	foreign int
	// public lists, for a public operation, the requests to try besides
	// build's, with what each must get.
	public []authzCase
}

// authzCase is one request and the status it must get.
type authzCase struct {
	name   string
	build  func(f *authzFixtures) authzReq
	status int
}

// authzOps is the expectation table, keyed by operation id. To add an
// operation, add one entry: its access level and a build that makes a
// valid request on tenant A's fixtures (see "apply-migration" for one that
// builds its own target).
//
// A build runs once per caller: one that consumes its target (a DELETE,
// an action allowed once) makes a fresh one each time. Set ok for a
// documented outcome other than the success status, foreign when tenant B
// does not get the default (404 for A's ids in the path, else its own
// data), and public for a route without an API key.
var authzOps = map[string]authzOp{
	// Tenants and keys.
	"create-tenant": {access: "operator", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/tenants", body: map[string]any{"name": "Another " + authzLeakMarker, "timezone": "Europe/Lisbon"}}
	}},
	"get-tenant":     {access: "app", build: static("/v1/tenant", nil)},
	"update-tenant":  {access: "admin", build: static("/v1/tenant", map[string]any{"holidays": []string{"2026-12-25"}})},
	"create-api-key": {access: "admin", build: static("/v1/api-keys", map[string]any{"role": "app"})},
	"list-api-keys":  {access: "admin", build: static("/v1/api-keys", nil)},
	"delete-api-key": {access: "admin", build: func(f *authzFixtures) authzReq {
		id := str(f.e.must(201, "POST", "/v1/api-keys", f.admin, map[string]any{"role": "app"})["id"])
		return authzReq{path: "/v1/api-keys/" + id}
	}},

	// Leads and quotes.
	"create-lead": {access: "app", build: static("/v1/leads", map[string]any{"first_name": "New", "email": "new@example.com"})},
	"list-leads":  {access: "app", build: static("/v1/leads", nil)},
	"get-lead":    {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/leads/" + f.lead} }},
	"update-lead": {access: "app", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/leads/" + f.lead, body: map[string]any{"last_name": "Silva" + authzLeakMarker}}
	}},
	"delete-lead": {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/leads/" + f.newLead()} }},
	// A lead of another tenant in the body is refused as a lead that does
	// not exist: 422 naming lead_id, as for any unknown id in a body.
	"create-quote": {access: "app", foreign: 422, build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/quotes", body: map[string]any{"lead_id": f.lead, "number": f.number(), "amount": 1250.0, "currency": "EUR"}}
	}},
	"list-quotes": {access: "app", build: static("/v1/quotes", nil)},
	"get-quote":   {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/quotes/" + f.quote} }},
	"update-quote": {access: "app", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/quotes/" + f.quote, body: map[string]any{"amount": 1300.0}}
	}},
	"send-quote": {access: "app", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/quotes/" + f.newQuote(false) + "/send"}
	}},
	"view-quote":   {access: "app", build: sentQuoteAction("view", nil)},
	"accept-quote": {access: "app", build: sentQuoteAction("accept", nil)},
	"reject-quote": {access: "app", build: sentQuoteAction("reject", map[string]any{"reason": "too expensive"})},
	"expire-quote": {access: "app", build: sentQuoteAction("expire", nil)},

	// The customer's own routes: the quote's token is the credential.
	"get-public-quote": {access: "public", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/public/quotes/" + f.token(f.quote)}
	}, public: badToken("", nil)},
	"view-public-quote": {access: "public", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/public/quotes/" + f.token(f.newQuote(true)) + "/view"}
	}, public: badToken("/view", nil)},
	"accept-public-quote": {access: "public", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/public/quotes/" + f.token(f.newQuote(true)) + "/accept"}
	}, public: badToken("/accept", nil)},
	"reject-public-quote": {access: "public", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/public/quotes/" + f.token(f.newQuote(true)) + "/reject", body: map[string]any{"reason": "no"}}
	}, public: badToken("/reject", nil)},
	"unsubscribe": {access: "public", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/public/quotes/" + f.token(f.newQuote(true)) + "/unsubscribe", body: oneClick.body, headers: oneClick.headers}
	}, public: badToken("/unsubscribe", &oneClick)},

	// The editor's sign-in link: the one-time code is the credential.
	"exchange-sign-in-code": {access: "public", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/sign-in/exchange", body: map[string]any{"code": f.e.codes.Issue(time.Now(), f.admin, f.tenant)}}
	}, public: []authzCase{
		{"unknown code", func(*authzFixtures) authzReq {
			return authzReq{path: "/v1/sign-in/exchange", body: map[string]any{"code": "not-a-code"}}
		}, 404},
		{"a code already used", func(f *authzFixtures) authzReq {
			code := f.e.codes.Issue(time.Now(), f.admin, f.tenant)
			f.e.must(200, "POST", "/v1/sign-in/exchange", "", map[string]any{"code": code})
			return authzReq{path: "/v1/sign-in/exchange", body: map[string]any{"code": code}}
		}, 404},
	}},

	// Workflows and steps. Steps are edited on their own workflow, so that
	// the runs of the main one are not disturbed.
	"create-workflow": {access: "admin", build: static("/v1/workflows", map[string]any{"name": "New", "trigger": "quote.rejected",
		"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "S", "text": "T"}}}})},
	"list-workflows": {access: "app", build: static("/v1/workflows", nil)},
	"get-workflow":   {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/workflows/" + f.workflow} }},
	"update-workflow": {access: "admin", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/workflows/" + f.editable, body: map[string]any{"name": "Edited " + authzLeakMarker}}
	}},
	"delete-workflow": {access: "admin", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/workflows/" + f.newWorkflow()} }},
	"list-workflow-versions": {access: "app", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/workflows/" + f.workflow + "/versions"}
	}},
	"add-step": {access: "admin", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/workflows/" + f.editable + "/steps", body: map[string]any{"type": "wait", "wait": map[string]any{"duration": "P1D"}}}
	}},
	"update-step": {access: "admin", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/workflows/" + f.editable + "/steps/" + f.steps(f.editable)[0],
			body: map[string]any{"email": map[string]any{"subject": "Edited", "text": "T"}}}
	}},
	"delete-step": {access: "admin", build: func(f *authzFixtures) authzReq {
		added := f.e.must(201, "POST", "/v1/workflows/"+f.editable+"/steps", f.admin, map[string]any{"type": "wait", "wait": map[string]any{"duration": "P1D"}})
		steps := added["steps"].([]any)
		return authzReq{path: "/v1/workflows/" + f.editable + "/steps/" + str(steps[len(steps)-1].(map[string]any)["id"])}
	}},
	"reorder-steps": {access: "admin", build: func(f *authzFixtures) authzReq {
		ids := f.steps(f.editable)
		slices.Reverse(ids)
		return authzReq{path: "/v1/workflows/" + f.editable + "/steps/reorder", body: map[string]any{"step_ids": ids}}
	}},
	"validate-step": {access: "admin", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/workflows/" + f.editable + "/steps/validate", body: map[string]any{"type": "wait", "wait": map[string]any{"duration": "P1D"}}}
	}},
	"preview-step": {access: "app", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/workflows/" + f.workflow + "/steps/" + f.steps(f.workflow)[0] + "/preview",
			body: map[string]any{"lead_id": f.lead, "quote_id": f.quote}}
	}},
	"list-whatsapp-templates": {access: "app", build: static("/v1/whatsapp/templates", nil)},

	// Rules and overrides.
	"create-rule": {access: "admin", foreign: 422, build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/assignment-rules", body: map[string]any{"name": "New", "trigger": "quote.viewed",
			"enabled": false, "workflow_id": f.workflow, "condition": map[string]any{"all": []any{}}}}
	}},
	"list-rules": {access: "app", build: static("/v1/assignment-rules", nil)},
	"get-rule":   {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/assignment-rules/" + f.rule} }},
	"update-rule": {access: "admin", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/assignment-rules/" + f.rule, body: map[string]any{"name": "Edited " + authzLeakMarker}}
	}},
	"delete-rule": {access: "admin", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/assignment-rules/" + f.newRule()} }},
	// Tenant B naming A's rules in the body: those rules are not B's.
	"reorder-rules": {access: "admin", foreign: 422, build: func(f *authzFixtures) authzReq {
		var ids []string
		for _, r := range f.e.must(200, "GET", "/v1/assignment-rules", f.admin, nil)["items"].([]any) {
			ids = append(ids, str(r.(map[string]any)["id"]))
		}
		slices.Reverse(ids)
		return authzReq{path: "/v1/assignment-rules/reorder", body: map[string]any{"rule_ids": ids}}
	}},
	"create-override": {access: "admin", build: func(f *authzFixtures) authzReq {
		// A lead has one override per trigger: a fresh lead each time.
		return authzReq{path: "/v1/leads/" + f.newLead() + "/overrides", body: map[string]any{"trigger": "*", "action": "suppress", "reason": "asked"}}
	}},
	"list-overrides": {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/leads/" + f.lead + "/overrides"} }},
	"delete-override": {access: "admin", build: func(f *authzFixtures) authzReq {
		// A lead has one override per trigger: a fresh lead each time.
		lead := f.newLead()
		id := str(f.e.must(201, "POST", "/v1/leads/"+lead+"/overrides", f.admin, map[string]any{"trigger": "quote.sent", "action": "suppress"})["id"])
		return authzReq{path: "/v1/leads/" + lead + "/overrides/" + id}
	}},

	// The resolver.
	"get-resolution": {access: "app", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/leads/" + f.lead + "/resolution?trigger=quote.sent&quote_id=" + f.quote}
	}},
	"preview-resolution": {access: "app", build: static("/v1/resolver/preview", map[string]any{"trigger": "quote.sent",
		"lead": map[string]any{"first_name": "Ana", "source": "web"}})},
	"get-coverage": {access: "app", build: static("/v1/coverage", nil)},
	"simulate": {access: "app", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/leads/" + f.lead + "/simulate", body: map[string]any{"trigger": "quote.sent", "quote_id": f.quote}}
	}},

	// What happened.
	"list-alerts": {access: "app", build: static("/v1/alerts", nil)},
	"list-events": {access: "app", build: static("/v1/events", nil)},
	"get-event":   {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/events/" + f.event} }},
	"list-runs":   {access: "app", build: static("/v1/runs", nil)},
	"get-run":     {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/runs/" + f.run} }},
	"cancel-run": {access: "admin", build: func(f *authzFixtures) authzReq {
		run, _ := f.newRun(false)
		return authzReq{path: "/v1/runs/" + run + "/cancel"}
	}},
	"get-timeline":  {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/leads/" + f.lead + "/timeline"} }},
	"list-messages": {access: "app", build: static("/v1/messages", nil)},
	"get-message":   {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/messages/" + f.message} }},
	"cancel-message": {access: "admin", build: func(f *authzFixtures) authzReq {
		_, m := f.newRun(true)
		return authzReq{path: "/v1/messages/" + m + "/cancel"}
	}},
	"retry-message": {access: "admin", build: func(f *authzFixtures) authzReq {
		_, m := f.newRun(true)
		f.e.must(200, "POST", "/v1/messages/"+m+"/cancel", f.admin, nil)
		return authzReq{path: "/v1/messages/" + m + "/retry"}
	}},
	"list-circuits": {access: "app", build: static("/v1/circuits", nil)},

	// Customers' WhatsApp messages.
	"list-inbox":   {access: "app", build: static("/v1/inbox", nil)},
	"list-inbound": {access: "app", build: static("/v1/inbound", nil)},
	"get-inbound":  {access: "app", build: func(f *authzFixtures) authzReq { return authzReq{path: "/v1/inbound/" + f.inbound} }},
	// The path names a provider, not one of A's resources: tenant B closes
	// its own circuit, which is not open, as A does.
	"close-circuit": {access: "admin", foreign: 204, build: static("/v1/circuits/cloud_api", nil)},

	// WhatsApp webhooks: the tenant's verify token and app secret are the
	// credentials.
	"verify-whatsapp-webhook": {access: "public", build: func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/webhooks/whatsapp/" + f.tenant + "?hub.mode=subscribe&hub.challenge=42&hub.verify_token=" + whatsapptest.VerifyToken}
	}, public: []authzCase{
		{"wrong verify token", func(f *authzFixtures) authzReq {
			return authzReq{path: "/v1/webhooks/whatsapp/" + f.tenant + "?hub.mode=subscribe&hub.challenge=42&hub.verify_token=wrong"}
		}, 403},
		{"no verify token", func(f *authzFixtures) authzReq {
			return authzReq{path: "/v1/webhooks/whatsapp/" + f.tenant + "?hub.mode=subscribe&hub.challenge=42"}
		}, 403},
		{"A's verify token on B's tenant", func(f *authzFixtures) authzReq {
			return authzReq{path: "/v1/webhooks/whatsapp/" + f.tenantB + "?hub.mode=subscribe&hub.challenge=42&hub.verify_token=" + whatsapptest.VerifyToken}
		}, 403},
		// No tenant oracle: an unknown or malformed tenant id is refused
		// like a wrong verify token.
		{"unknown tenant", func(f *authzFixtures) authzReq {
			return authzReq{path: "/v1/webhooks/whatsapp/0190b0f0-0000-7000-8000-000000000000?hub.mode=subscribe&hub.challenge=42&hub.verify_token=" + whatsapptest.VerifyToken}
		}, 403},
		{"malformed tenant id", func(f *authzFixtures) authzReq {
			return authzReq{path: "/v1/webhooks/whatsapp/not-a-tenant?hub.mode=subscribe&hub.challenge=42&hub.verify_token=" + whatsapptest.VerifyToken}
		}, 403},
	}},
	"whatsapp-webhook": {access: "public", build: func(f *authzFixtures) authzReq {
		body, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret)
		return authzReq{path: "/v1/webhooks/whatsapp/" + f.tenant, body: string(body), headers: []string{"X-Hub-Signature-256", sig}}
	}, public: []authzCase{
		{"no signature", func(f *authzFixtures) authzReq {
			body, _ := whatsapptest.StatusWebhook(whatsapptest.AppSecret)
			return authzReq{path: "/v1/webhooks/whatsapp/" + f.tenant, body: string(body)}
		}, 401},
		{"signed with another secret", func(f *authzFixtures) authzReq {
			body, sig := whatsapptest.StatusWebhook("not-the-secret")
			return authzReq{path: "/v1/webhooks/whatsapp/" + f.tenant, body: string(body), headers: []string{"X-Hub-Signature-256", sig}}
		}, 401},
		{"A's signature on B's tenant", func(f *authzFixtures) authzReq {
			body, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret)
			return authzReq{path: "/v1/webhooks/whatsapp/" + f.tenantB, body: string(body), headers: []string{"X-Hub-Signature-256", sig}}
		}, 401},
		// No tenant oracle: an unknown or malformed tenant id is refused
		// like a bad signature.
		{"unknown tenant", func(f *authzFixtures) authzReq {
			body, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret)
			return authzReq{path: "/v1/webhooks/whatsapp/0190b0f0-0000-7000-8000-000000000000", body: string(body), headers: []string{"X-Hub-Signature-256", sig}}
		}, 401},
		{"malformed tenant id", func(f *authzFixtures) authzReq {
			body, sig := whatsapptest.StatusWebhook(whatsapptest.AppSecret)
			return authzReq{path: "/v1/webhooks/whatsapp/not-a-tenant", body: string(body), headers: []string{"X-Hub-Signature-256", sig}}
		}, 401},
	}},

	// Legacy settings.
	"get-legacy-settings": {access: "app", build: static("/v1/legacy/settings", nil)},
	"put-legacy-settings": {access: "admin", build: static("/v1/legacy/settings", map[string]any{
		"quote.sent": map[string]any{"enabled": true, "channels": []string{"email"},
			"email": map[string]any{"subject": "Your quote {{ quote.number }}", "text": "See {{ quote.url }}"}},
		"quote.accepted": map[string]any{"enabled": false, "channels": []string{}},
	})},

	// The migration. B's preview is of its own settings; an apply of A's
	// preview id by B finds no such preview.
	"preview-migration": {access: "admin", build: static("/v1/migration/preview", map[string]any{})},
	"apply-migration": {access: "admin", ok: http.StatusCreated, foreign: http.StatusNotFound, build: func(f *authzFixtures) authzReq {
		// Settings of their own for every caller, so that each apply is of
		// a preview not applied before (201).
		f.e.must(200, "PUT", "/v1/legacy/settings", f.admin, map[string]any{
			"quote.sent": map[string]any{"enabled": true, "channels": []string{"email"},
				"email": map[string]any{"subject": "Quote {{ quote.number }} " + strconv.FormatInt(time.Now().UnixNano(), 36), "text": "See {{ quote.url }}"}},
		})
		id := str(f.e.must(200, "POST", "/v1/migration/preview", f.admin, map[string]any{})["id"])
		return authzReq{path: "/v1/migration/apply", body: map[string]any{"preview_id": id}}
	}},
	"list-mode-changes": {access: "app", build: static("/v1/tenant/mode-changes", nil)},
	// Operations: served by the mux itself, for anyone (the process's
	// liveness, readiness and metrics, never a tenant's data).
	"get-healthz":       {access: "public", build: static("/healthz", nil)},
	"get-readyz":        {access: "public", build: static("/readyz", nil)},
	"get-metrics":       {access: "public", build: static("/metrics", nil)},
	"get-outbox-stats":  {access: "app", build: static("/v1/stats/outbox?bucket=1d&group_by=trigger,channel", nil)},
	"get-shadow-report": {access: "app", build: static("/v1/shadow/report?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z", nil)},
}

// authzMixed is, by operation id, tenant B's requests on its own
// resources that name one of A's in the body or the query: each is refused
// as an id that does not exist (422 naming the field), and a filter by
// A's id finds nothing. They run as B's admin key, checked for A's data.
var authzMixed = map[string][]authzCase{
	"preview-step": {
		{"B's step for A's lead", func(f *authzFixtures) authzReq {
			return authzReq{path: "/v1/workflows/" + f.workflowB + "/steps/" + f.stepB + "/preview", body: map[string]any{"lead_id": f.lead}}
		}, 422},
		{"B's step for B's lead and A's quote", func(f *authzFixtures) authzReq {
			return authzReq{path: "/v1/workflows/" + f.workflowB + "/steps/" + f.stepB + "/preview", body: map[string]any{"lead_id": f.leadB, "quote_id": f.quote}}
		}, 422},
	},
	"simulate": {{"B's lead with A's quote", func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/leads/" + f.leadB + "/simulate", body: map[string]any{"trigger": "quote.sent", "quote_id": f.quote}}
	}, 422}},
	"get-resolution": {{"B's lead with A's quote", func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/leads/" + f.leadB + "/resolution?trigger=quote.sent&quote_id=" + f.quote}
	}, 422}},
	"create-override": {{"B's lead pinned to A's workflow", func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/leads/" + f.leadB + "/overrides", body: map[string]any{"trigger": "*", "action": "workflow", "workflow_id": f.workflow}}
	}, 422}},
	"update-rule": {{"B's rule to A's workflow", func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/assignment-rules/" + f.ruleB, body: map[string]any{"workflow_id": f.workflow}}
	}, 422}},
	"reorder-rules": {{"B's rule and A's", func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/assignment-rules/reorder", body: map[string]any{"rule_ids": []string{f.ruleB, f.rule}}}
	}, 422}},
	"reorder-steps": {{"B's step and A's", func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/workflows/" + f.workflowB + "/steps/reorder", body: map[string]any{"step_ids": []string{f.stepB, f.steps(f.workflow)[0]}}}
	}, 422}},
	"list-events":   {{"filtered by A's lead", func(f *authzFixtures) authzReq { return authzReq{path: "/v1/events?lead_id=" + f.lead} }, 200}},
	"list-runs":     {{"filtered by A's quote", func(f *authzFixtures) authzReq { return authzReq{path: "/v1/runs?quote_id=" + f.quote} }, 200}},
	"list-messages": {{"filtered by A's lead", func(f *authzFixtures) authzReq { return authzReq{path: "/v1/messages?lead_id=" + f.lead} }, 200}},
	"list-quotes":   {{"filtered by A's lead", func(f *authzFixtures) authzReq { return authzReq{path: "/v1/quotes?lead_id=" + f.lead} }, 200}},
	"list-inbound":  {{"filtered by A's lead", func(f *authzFixtures) authzReq { return authzReq{path: "/v1/inbound?lead_id=" + f.lead} }, 200}},
}

// static is a build for a request that names no fixture.
func static(path string, body any) func(*authzFixtures) authzReq {
	return func(*authzFixtures) authzReq { return authzReq{path: path, body: body} }
}

// sentQuoteAction is a build for a quote action on a fresh sent quote.
func sentQuoteAction(action string, body any) func(*authzFixtures) authzReq {
	return func(f *authzFixtures) authzReq {
		return authzReq{path: "/v1/quotes/" + f.newQuote(true) + "/" + action, body: body}
	}
}

// oneClick is the body and headers of an RFC 8058 one-click unsubscribe.
var oneClick = authzReq{body: "List-Unsubscribe=One-Click", headers: []string{"Content-Type", "application/x-www-form-urlencoded"}}

// badToken is what a public quote route gives for tokens that are not a
// quote's; with is the rest of a valid request, if any.
func badToken(suffix string, with *authzReq) []authzCase {
	req := func(path string) authzReq {
		r := authzReq{path: path}
		if with != nil {
			r.body, r.headers = with.body, with.headers
		}
		return r
	}
	return []authzCase{
		{"unknown token", func(*authzFixtures) authzReq { return req("/v1/public/quotes/qt_not-a-token" + suffix) }, 404},
		{"a quote id as token", func(f *authzFixtures) authzReq { return req("/v1/public/quotes/" + f.quote + suffix) }, 404},
	}
}

// authzFixtures is tenant A with one of everything, tenant B, and the
// keys of every caller.
type authzFixtures struct {
	e   *env
	app *app.App
	// tenant A and its keys.
	tenant, admin, appKey, revoked string
	// tenant B and its admin key.
	tenantB, adminB, appB string
	// B's own lead, workflow with its step, and rule.
	leadB, workflowB, stepB, ruleB string
	// A's fixtures shared by every caller: a lead and a sent quote of
	// it, a workflow (send_email, wait, send_email) with its rule, the
	// quote's event, run and scheduled message; a workflow whose steps
	// are edited.
	lead, quote, workflow, rule, event, run, message, editable string
	// inbound is a customer's message in A's inbox.
	inbound string
	seq     int
	// gets holds the path templates that have a GET operation.
	gets map[string]bool
}

func (f *authzFixtures) number() string {
	f.seq++
	return fmt.Sprintf("QA-%d-%s", f.seq, authzLeakMarker)
}

func (f *authzFixtures) newLead() string {
	f.e.t.Helper()
	f.seq++
	return str(f.e.must(201, "POST", "/v1/leads", f.admin, map[string]any{"first_name": "Ana " + authzLeakMarker,
		"email": fmt.Sprintf("ana-%d-zza@example.com", f.seq), "source": "web"})["id"])
}

// newQuote creates a quote of the main lead, sent when sent is true.
func (f *authzFixtures) newQuote(sent bool) string {
	f.e.t.Helper()
	id := str(f.e.must(201, "POST", "/v1/quotes", f.admin, map[string]any{"lead_id": f.lead, "number": f.number(),
		"amount": 1250.0, "currency": "EUR"})["id"])
	if sent {
		f.e.must(200, "POST", "/v1/quotes/"+id+"/send", f.admin, nil)
	}
	return id
}

func (f *authzFixtures) token(quote string) string {
	f.e.t.Helper()
	return str(f.e.must(200, "GET", "/v1/quotes/"+quote, f.admin, nil)["public_token"])
}

func (f *authzFixtures) newWorkflow() string {
	f.e.t.Helper()
	return str(f.e.must(201, "POST", "/v1/workflows", f.admin, map[string]any{"name": "Spare " + authzLeakMarker, "trigger": "quote.expired",
		"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "S", "text": "T"}}}})["id"])
}

func (f *authzFixtures) newRule() string {
	f.e.t.Helper()
	return str(f.e.must(201, "POST", "/v1/assignment-rules", f.admin, map[string]any{"name": "Spare " + authzLeakMarker,
		"trigger": "quote.expired", "enabled": false, "workflow_id": f.workflow, "condition": map[string]any{"all": []any{}}})["id"])
}

func (f *authzFixtures) steps(workflow string) []string {
	f.e.t.Helper()
	var ids []string
	for _, s := range f.e.must(200, "GET", "/v1/workflows/"+workflow, f.admin, nil)["steps"].([]any) {
		ids = append(ids, str(s.(map[string]any)["id"]))
	}
	return ids
}

// newRun sends a fresh quote, which starts a run of the main workflow.
// With message, it runs the first step, whose email is held as scheduled
// by A's quiet hours, and returns that message too. The test's job queue
// is never started: steps run here, when the test says, not in the
// background.
func (f *authzFixtures) newRun(message bool) (run, msg string) {
	f.e.t.Helper()
	q := f.newQuote(true)
	runs := f.e.must(200, "GET", "/v1/runs?quote_id="+q, f.admin, nil)["items"].([]any)
	if len(runs) != 1 {
		f.e.t.Fatalf("quote %s: %d runs, want 1", q, len(runs))
	}
	run = str(runs[0].(map[string]any)["id"])
	if !message {
		return run, ""
	}
	if err := f.app.RunStep(context.Background(), f.tenant, run, 0); err != nil {
		f.e.t.Fatal(err)
	}
	ms := f.e.must(200, "GET", "/v1/messages?quote_id="+q, f.admin, nil)["items"].([]any)
	if len(ms) != 1 || ms[0].(map[string]any)["status"] != "scheduled" {
		f.e.t.Fatalf("quote %s: messages %v, want one scheduled", q, ms)
	}
	return run, str(ms[0].(map[string]any)["id"])
}

// setupAuthz starts the API over a fresh database, with a job queue that
// takes jobs but never runs them, and the fixtures.
func setupAuthz(t *testing.T, dialect string, configure ...func(*app.Config)) *authzFixtures {
	t.Helper()
	db := storetest.Open(t, dialect)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	q, err := jobs.New(db, jobs.Config{Workers: 1, RescueAfter: time.Minute, ExpireEvery: time.Hour}, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{OperatorToken: operatorToken, PublicBaseURL: "https://quotes.test"}
	for _, c := range configure {
		c(&cfg)
	}
	a := app.New(db, q, cfg, log)
	wa := whatsapptest.Start(t)
	wa.AddTemplate(whatsapptest.Template{Name: "quote_sent", Language: "en_US", Status: "APPROVED", Category: "UTILITY",
		Body: "Hi {{1}}, your quote {{2}} is ready."})
	a.Senders = senders.New(senders.Options{Log: logsender.New(nil), WhatsAppBaseURL: wa.URL(), WhatsAppThrottle: whatsapp.NewThrottle(0, 0)})
	codes := app.NewSignInCodes()
	srv := httptest.NewServer(api.New(a, log, api.Options{SignInCodes: codes}))
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, app: a, codes: codes}
	f := &authzFixtures{e: e, app: a}

	// A quiet window that always contains now holds every email as
	// scheduled, so that a message can be cancelled and retried.
	now := time.Now().UTC()
	ch := wa.Channel()
	f.admin = e.tenant("Tenant "+authzLeakMarker, map[string]any{"mode": "engine", "timezone": "UTC",
		"quiet_hours": map[string]any{"start": now.Add(-time.Minute).Format("15:04"), "end": now.Add(-2 * time.Minute).Format("15:04")},
		"channels": map[string]any{
			"email": map[string]any{"provider": "log", "from": "Acme ZZA <quotes@acme.example>"},
			"whatsapp": map[string]any{"provider": "cloud_api", "phone_number_id": ch.PhoneNumberID, "business_account_id": ch.BusinessAccountID,
				"access_token": ch.AccessToken, "app_secret": ch.AppSecret, "verify_token": ch.VerifyToken},
		}})
	f.tenant = str(e.must(200, "GET", "/v1/tenant", f.admin, nil)["id"])
	f.appKey = str(e.must(201, "POST", "/v1/api-keys", f.admin, map[string]any{"role": "app"})["key"])
	// The revoked key is used before it is revoked, so that revocation
	// has a verified key to forget.
	revoked := e.must(201, "POST", "/v1/api-keys", f.admin, map[string]any{"role": "admin"})
	f.revoked = str(revoked["key"])
	e.must(200, "GET", "/v1/tenant", f.revoked, nil)
	e.must(204, "DELETE", "/v1/api-keys/"+str(revoked["id"]), f.admin, nil)

	// B has a WhatsApp account of its own, with its own secrets.
	f.adminB = e.tenant("Tenant B", map[string]any{"mode": "engine", "channels": map[string]any{
		"whatsapp": map[string]any{"provider": "cloud_api", "phone_number_id": ch.PhoneNumberID, "business_account_id": ch.BusinessAccountID,
			"access_token": ch.AccessToken, "app_secret": "secret-of-b", "verify_token": "verify-of-b"},
	}})
	f.tenantB = str(e.must(200, "GET", "/v1/tenant", f.adminB, nil)["id"])
	f.appB = str(e.must(201, "POST", "/v1/api-keys", f.adminB, map[string]any{"role": "app"})["key"])
	f.leadB = str(e.must(201, "POST", "/v1/leads", f.adminB, map[string]any{"first_name": "Bea", "email": "bea@example.com"})["id"])
	wb := e.must(201, "POST", "/v1/workflows", f.adminB, map[string]any{"name": "B's flow", "trigger": "quote.sent",
		"steps": []any{map[string]any{"type": "send_email", "email": map[string]any{"subject": "{{ quote.number }}", "text": "Hi {{ lead.first_name }} {{ lead.email }}"}}}})
	f.workflowB, f.stepB = str(wb["id"]), str(wb["steps"].([]any)[0].(map[string]any)["id"])
	f.ruleB = str(e.must(201, "POST", "/v1/assignment-rules", f.adminB, map[string]any{"name": "B's rule", "trigger": "quote.sent",
		"enabled": true, "workflow_id": f.workflowB, "condition": map[string]any{"all": []any{}}})["id"])

	// B has legacy settings of its own, so its migration preview is its
	// own and not a 422 (whether put-legacy-settings ran first or not).
	e.must(200, "PUT", "/v1/legacy/settings", f.adminB, map[string]any{
		"quote.sent": map[string]any{"enabled": true, "channels": []string{"email"},
			"email": map[string]any{"subject": "B's quote {{ quote.number }}", "text": "See {{ quote.url }}"}},
	})
	// A has legacy settings too, as a tenant on its way to the engine has.
	e.must(200, "PUT", "/v1/legacy/settings", f.admin, map[string]any{
		"quote.sent": map[string]any{"enabled": true, "channels": []string{"email"},
			"email": map[string]any{"subject": "Your quote {{ quote.number }}", "text": "See {{ quote.url }}"}},
		"quote.accepted": map[string]any{"enabled": true, "channels": []string{"email"},
			"email": map[string]any{"subject": "Thanks", "text": "Thank you, {{ lead.first_name }}"}},
	})

	f.lead = f.newLead()
	f.workflow = str(e.must(201, "POST", "/v1/workflows", f.admin, map[string]any{"name": "Follow-up " + authzLeakMarker, "trigger": "quote.sent",
		"steps": []any{
			map[string]any{"type": "send_email", "email": map[string]any{"subject": "First {{ quote.number }}", "text": "Hi {{ lead.first_name }}"}},
			map[string]any{"type": "wait", "wait": map[string]any{"duration": "P2D"}},
			map[string]any{"type": "send_email", "email": map[string]any{"subject": "Second", "text": "Still there?"}},
		}})["id"])
	f.rule = str(e.must(201, "POST", "/v1/assignment-rules", f.admin, map[string]any{"name": "All " + authzLeakMarker, "trigger": "quote.sent",
		"enabled": true, "workflow_id": f.workflow, "condition": map[string]any{"all": []any{}}})["id"])
	f.editable = str(e.must(201, "POST", "/v1/workflows", f.admin, map[string]any{"name": "Edited " + authzLeakMarker, "trigger": "quote.accepted",
		"steps": []any{
			map[string]any{"type": "send_email", "email": map[string]any{"subject": "S", "text": "T"}},
			map[string]any{"type": "wait", "wait": map[string]any{"duration": "P1D"}},
		}})["id"])
	f.run, f.message = f.newRun(true)
	f.quote = str(e.must(200, "GET", "/v1/runs/"+f.run, f.admin, nil)["quote_id"])
	events := e.must(200, "GET", "/v1/events?quote_id="+f.quote, f.admin, nil)["items"].([]any)
	if len(events) == 0 {
		t.Fatalf("no event for quote %s", f.quote)
	}
	f.event = str(events[0].(map[string]any)["id"])
	// A customer's message from a number no lead has: A's inbox.
	body, sig, _ := whatsapptest.InboundWebhook(whatsapptest.AppSecret, whatsapptest.Text("+351939999999", "Hello "+authzLeakMarker))
	e.must(200, "POST", "/v1/webhooks/whatsapp/"+f.tenant, "", string(body), "X-Hub-Signature-256", sig)
	inbox := e.must(200, "GET", "/v1/inbox", f.admin, nil)["items"].([]any)
	if len(inbox) != 1 {
		t.Fatalf("inbox %v, want the one message", inbox)
	}
	f.inbound = str(inbox[0].(map[string]any)["id"])
	return f
}

// authzOperation is one operation of the served document.
type authzOperation struct {
	id, method, path string
	security         []map[string][]string
	success          int
	idempotent       bool // declares an Idempotency-Key header
}

// servedOperations reads every path × method of the served document.
func servedOperations(t *testing.T, e *env) []authzOperation {
	t.Helper()
	res, err := e.srv.Client().Get(e.srv.URL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string                `json:"operationId"`
			Security    []map[string][]string `json:"security"`
			Responses   map[string]any        `json:"responses"`
			Parameters  []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var ops []authzOperation
	for path, methods := range doc.Paths {
		for method, op := range methods {
			o := authzOperation{id: op.OperationID, method: strings.ToUpper(method), path: path, security: op.Security}
			for _, p := range op.Parameters {
				if p.In == "header" && strings.EqualFold(p.Name, "Idempotency-Key") {
					o.idempotent = true
				}
			}
			for code := range op.Responses {
				if n, err := strconv.Atoi(code); err == nil && n >= 200 && n < 300 && (o.success == 0 || n < o.success) {
					o.success = n
				}
			}
			ops = append(ops, o)
		}
	}
	slices.SortFunc(ops, func(a, b authzOperation) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	return ops
}

// TestEveryOperationByRoleAndTenant checks every operation of the served
// document as every caller of authzCallers (no key; malformed, unknown,
// wrong-secret, non-Bearer and revoked keys; the operator token; A's app
// and admin keys; tenant B's admin and app keys with A's ids), the
// requests of authzMixed, an Idempotency-Key shared across tenants, and
// the public routes with wrong tokens and signatures.
func TestEveryOperationByRoleAndTenant(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f := setupAuthz(t, d)
			ops := servedOperations(t, f.e)
			served := map[string]bool{}
			f.gets = map[string]bool{}
			for _, op := range ops {
				served[op.id] = true
				if op.method == http.MethodGet {
					f.gets[op.path] = true
				}
				if _, ok := authzOps[op.id]; !ok {
					t.Errorf("operation %s (%s %s) has no entry in authzOps (internal/api/authz_matrix_test.go): "+
						"add one with its access level and a build that makes a valid request for it", op.id, op.method, op.path)
				}
			}
			for id := range authzOps {
				if !served[id] {
					t.Errorf("authzOps has an entry for %s, which is not an operation of the served document: remove it", id)
				}
			}
			for id := range authzMixed {
				if !served[id] {
					t.Errorf("authzMixed has an entry for %s, which is not an operation of the served document: remove it", id)
				}
			}
			cases := 0
			for _, op := range ops {
				want, ok := authzOps[op.id]
				if !ok {
					continue
				}
				t.Run(op.id, func(t *testing.T) {
					cases += f.check(t, op, want)
				})
			}
			t.Logf("%d operations, %d operation × caller cases", len(ops), cases)
		})
	}
}

// check runs one operation as every caller and returns how many cases ran.
func (f *authzFixtures) check(t *testing.T, op authzOperation, want authzOp) int {
	// Requests and fixtures fail this subtest, not the whole matrix.
	prev := f.e.t
	f.e.t = t
	defer func() { f.e.t = prev }()
	okStatus := want.ok
	if okStatus == 0 {
		okStatus = op.success
	}
	var scheme string
	if len(op.security) > 0 {
		for k := range op.security[0] {
			scheme = k
		}
	}
	wantScheme, known := map[string]string{"public": "", "operator": "operator", "app": "apiKey", "admin": "apiKey"}[want.access]
	if !known {
		t.Fatalf("access %q: want public, operator, app or admin", want.access)
	}
	if scheme != wantScheme {
		t.Errorf("the document's security is %q, the table's access %q wants %q", scheme, want.access, wantScheme)
	}

	if want.access == "public" {
		f.expect(t, op, "valid", "", want.build(f), okStatus)
		for _, p := range want.public {
			f.expect(t, op, p.name, "", p.build(f), p.status)
		}
		// An API key changes nothing on a public route.
		f.expect(t, op, "valid, with an admin key", "Bearer "+f.admin, want.build(f), okStatus)
		return 2 + len(want.public)
	}
	for _, c := range authzCallers {
		var auth string
		status := http.StatusUnauthorized
		switch c {
		case callerMalformed:
			auth = "Bearer not-a-key"
		case callerUnknown:
			auth = "Bearer qf_0190b0f000007000800000000000000_" + strings.Repeat("A", 43)
		case callerWrongSecret:
			id, _, _ := strings.Cut(strings.TrimPrefix(f.admin, "qf_"), "_")
			auth = "Bearer qf_" + id + "_" + strings.Repeat("A", 43)
		case callerNotBearer:
			auth = "Basic " + f.admin
		case callerRevoked:
			auth = "Bearer " + f.revoked
		case callerOperator:
			auth = "Bearer " + operatorToken
			if want.access == "operator" {
				status = okStatus
			}
		case callerApp:
			auth = "Bearer " + f.appKey
			switch want.access {
			case "app":
				status = okStatus
			case "admin":
				status = http.StatusForbidden
			}
		case callerAdmin, callerAdminLower:
			// RFC 9110 §11.1: the scheme is case-insensitive.
			auth = "Bearer " + f.admin
			if c == callerAdminLower {
				auth = "bearer " + f.admin
			}
			if want.access != "operator" {
				status = okStatus
			}
		case callerForeign, callerForeignApp:
			auth = "Bearer " + f.adminB
			if c == callerForeignApp {
				auth = "Bearer " + f.appB
			}
			switch {
			case c == callerForeignApp && want.access == "admin":
				// The role is checked before any id is looked up.
				status = http.StatusForbidden
			case want.access != "operator":
				status = want.foreign
				if status == 0 {
					status = okStatus
					if strings.Contains(op.path, "{") {
						status = http.StatusNotFound
					}
				}
			}
		}
		r := want.build(f)
		if (c == callerForeign || c == callerForeignApp) && op.method != http.MethodGet {
			f.unchangedBy(t, op, c, r, func() { f.expect(t, op, string(c), auth, r, status) })
			continue
		}
		f.expect(t, op, string(c), auth, r, status)
	}
	n := len(authzCallers)
	for _, m := range authzMixed[op.id] {
		r := m.build(f)
		res := f.expect(t, op, string(callerForeign)+": "+m.name, "Bearer "+f.adminB, r, m.status)
		if items, ok := res.JSON["items"].([]any); ok && m.status == http.StatusOK && len(items) > 0 {
			t.Errorf("%s %s as tenant B: found %d items by A's id: %s", op.method, r.path, len(items), res.Raw)
		}
		n++
	}
	if op.idempotent && want.access != "operator" {
		n += f.checkIdempotencyKeyPerTenant(t, op, want, okStatus)
	}
	return n
}

// checkIdempotencyKeyPerTenant sends one request as A's admin with an
// Idempotency-Key, then the same request with the same key as tenant B:
// B's answer is its own, never a replay of A's.
func (f *authzFixtures) checkIdempotencyKeyPerTenant(t *testing.T, op authzOperation, want authzOp, okStatus int) int {
	t.Helper()
	r := want.build(f)
	r.headers = append(slices.Clone(r.headers), "Idempotency-Key", "authz-"+op.id)
	first := f.e.call(op.method, r.path, f.admin, r.body, r.headers...)
	if first.Status != okStatus {
		t.Errorf("%s %s as admin key with an Idempotency-Key: status %d, want %d: %s", op.method, r.path, first.Status, okStatus, first.Raw)
		return 1
	}
	status := want.foreign
	if status == 0 {
		status = okStatus
		if strings.Contains(op.path, "{") {
			status = http.StatusNotFound
		}
	}
	again := f.e.call(op.method, r.path, f.adminB, r.body, r.headers...)
	switch {
	case again.Status != status:
		t.Errorf("%s %s as tenant B with A's Idempotency-Key: status %d, want %d: %s", op.method, r.path, again.Status, status, again.Raw)
	case again.Header.Get("Idempotent-Replayed") != "" || bytes.Equal(again.Raw, first.Raw):
		t.Errorf("%s %s as tenant B with A's Idempotency-Key: A's answer replayed: %s", op.method, r.path, again.Raw)
	case bytes.Contains(again.Raw, []byte(f.tenant)) || (first.JSON["id"] != nil && again.JSON["id"] == first.JSON["id"]):
		t.Errorf("%s %s as tenant B with A's Idempotency-Key: holds A's data: %s", op.method, r.path, again.Raw)
	}
	return 2
}

// unchangedBy checks that a write of tenant B's, refused or done on B's
// own data, left A's data as it was: the nearest resource with a GET operation at or above the
// request's path is read as A's admin before and after, and must read the
// same.
func (f *authzFixtures) unchangedBy(t *testing.T, op authzOperation, who authzCaller, r authzReq, refused func()) {
	t.Helper()
	path, _, _ := strings.Cut(r.path, "?")
	tmpl, read := strings.Split(op.path, "/"), strings.Split(path, "/")
	for len(tmpl) > 2 && !f.gets[strings.Join(tmpl, "/")] {
		tmpl, read = tmpl[:len(tmpl)-1], read[:len(read)-1]
	}
	if !f.gets[strings.Join(tmpl, "/")] {
		refused()
		return
	}
	at := strings.Join(read, "/")
	before := withoutLastUse(f.e.must(200, "GET", at, f.admin, nil))
	refused()
	if after := withoutLastUse(f.e.must(200, "GET", at, f.admin, nil)); !reflect.DeepEqual(before, after) {
		t.Errorf("%s %s as %s changed tenant A's %s:\nbefore %v\nafter  %v", op.method, r.path, who, at, before, after)
	}
}

// withoutLastUse drops the keys' last_used_at, which A's own reads move.
func withoutLastUse(v map[string]any) map[string]any {
	items, _ := v["items"].([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			delete(m, "last_used_at")
		}
	}
	return v
}

// expect sends r as token and checks the answer's status, its problem type
// when it is an error, and for tenant B that none of A's data is in it.
func (f *authzFixtures) expect(t *testing.T, op authzOperation, who, auth string, r authzReq, status int) response {
	t.Helper()
	headers := r.headers
	if auth != "" {
		headers = append(slices.Clone(headers), "Authorization", auth)
	}
	res := f.e.call(op.method, r.path, "", r.body, headers...)
	name := fmt.Sprintf("%s %s as %s", op.method, r.path, who)
	if res.Status != status {
		t.Errorf("%s: status %d, want %d: %s", name, res.Status, status, res.Raw)
		return res
	}
	if strings.HasPrefix(who, "tenant B") && (bytes.Contains(bytes.ToUpper(res.Raw), []byte(authzLeakMarker)) || bytes.Contains(res.Raw, []byte(f.tenant))) {
		t.Errorf("%s: tenant B's answer holds tenant A's data: %s", name, res.Raw)
	}
	if status < 400 {
		return res
	}
	kind := map[int]string{401: "unauthorized", 403: "forbidden", 404: "not-found", 409: "conflict", 422: "validation"}[status]
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("%s: content type %q, want application/problem+json: %s", name, ct, res.Raw)
		return res
	}
	if got := str(res.JSON["type"]); got != "urn:quoteflow:problem:"+kind {
		t.Errorf("%s: problem type %q, want urn:quoteflow:problem:%s: %s", name, got, kind, res.Raw)
	}
	if status == http.StatusUnauthorized && op.id != "whatsapp-webhook" && res.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: a 401 without WWW-Authenticate", name)
	}
	return res
}
