package api

import (
	"strings"

	"github.com/quoteflow/quoteflow/internal/engine/condition"
	"github.com/quoteflow/quoteflow/internal/engine/resolver"
)

// The fixed values of the API's fields, as the server writes or accepts
// them (the constants of internal/engine and internal/app).
var (
	triggerValues     = []string{"quote.sent", "quote.viewed", "quote.accepted", "quote.rejected", "quote.expired"}
	anyTriggerValues  = append([]string{"*"}, triggerValues...)
	outcomeValues     = []string{"workflow", "legacy", "suppressed", "none"}
	sourceValues      = []string{"override", "rule", "fallback", "mode", "duplicate"}
	modeValues        = []string{"legacy", "shadow", "engine"}
	quoteStatusValues = []string{"draft", "sent", "viewed", "accepted", "rejected", "expired"}
	exitOnValues      = []string{"sent", "viewed", "accepted", "rejected", "expired", "replied"}
	stepTypeValues    = []string{"send_email", "send_whatsapp", "wait"}
	actionValues      = []string{"send", "view", "accept", "reject", "expire"}
	errorClassValues  = []string{"transient", "recipient", "request", "tenant", "unknown"}
	// messageErrorClassValues adds the window class (issue 13) where v1's
	// contract left the field open; an attempt's stays the closed five.
	messageErrorClassValues = append(errorClassValues[:len(errorClassValues):len(errorClassValues)], "window")
	cancelledByValues       = append(quoteStatusValues[:len(quoteStatusValues):len(quoteStatusValues)], "replied")
	inboundMatchValues      = []string{"lead", "unknown_number", "ambiguous"}
	consentSourceValues     = []string{"keyword", "button", "preference", "unsubscribe", "api"}
	// inboundTypeValues are Meta's documented message types; Meta adds
	// more, and every one is stored as sent.
	inboundTypeValues = []string{"text", "button", "interactive", "image", "audio", "video", "document", "sticker",
		"location", "contacts", "reaction", "order", "system", "unsupported", "unknown"}
	receiptValues       = []string{"sent", "delivered", "read", "failed"}
	channelValues       = []string{"email", "whatsapp"}
	providerValues      = []string{"smtp", "cloud_api", "log"}
	messageStatusValues = []string{"scheduled", "queued", "sending", "sent", "delivered", "read", "failed", "unknown",
		"suppressed", "cancelled", "shadow"}
	traceKindValues   = []string{"override", "rule", "fallback", "mode", "event"}
	traceResultValues = []string{"matched", "skipped", "failed", "warning"}
	// decisionReasons are the reason codes of decisions (engine/decision.go
	// and app's duplicate_event); a trace entry carries the same codes and
	// its own (traceReasons).
	decisionReasons = []string{"override_suppress", "override_workflow", "rule_matched", "fallback_legacy",
		"fallback_legacy_disabled", "fallback_internal_signal", "fallback_none_by_design", "mode_legacy",
		"mode_legacy_disabled", "mode_legacy_unsupported_trigger", "unknown_trigger", "duplicate_event"}
	traceReasons = append([]string{"disabled", "wrong_trigger", "workflow_disabled", "workflow_missing", "expired",
		"invalid_action", "condition_false", "condition_unknown", "duplicate"}, decisionReasons...)
)

// conditionSchemas are the recursive condition: a group of all or any, or a
// leaf comparing a field with an operator.
func conditionSchemas() map[string]obj {
	return map[string]obj{
		"Condition": {
			"description": "A condition tree, evaluated against the lead, its quote and the event. " +
				"{\"all\": []} is true for every lead. At most 32 levels and 1000 nodes.",
			"oneOf": []any{ref("ConditionAll"), ref("ConditionAny"), ref("ConditionLeaf")},
		},
		"ConditionAll": {
			"type": "object", "additionalProperties": false, "required": strs("all"),
			"description": "True when every condition in all is true (an empty all is true).",
			"properties":  obj{"all": obj{"type": "array", "items": ref("Condition")}},
		},
		"ConditionAny": {
			"type": "object", "additionalProperties": false, "required": strs("any"),
			"description": "True when at least one condition in any is true (an empty any matches nothing).",
			"properties":  obj{"any": obj{"type": "array", "items": ref("Condition")}},
		},
		"ConditionLeaf": {
			"type": "object", "additionalProperties": false, "required": strs("field", "op"),
			"description": "Compares one field of the context with value. exists and missing take no value; in and nin take an array.",
			"properties": obj{
				"field": obj{"type": "string", "description": "A context field: lead.country, lead.tags, quote.amount, lead.custom.<name>, ...", "examples": strs("lead.country")},
				"op":    obj{"type": "string", "enum": strs(condition.Operators...)},
				"value": obj{"description": "What the field is compared with: a string, number, boolean, or an array for in and nin"},
			},
		},
	}
}

// stepSchemas are the step union named union, with variants named by
// suffix: as read (id required), as written (id optional) and as added
// (with position).
func stepSchemas(union, suffix string, idRequired bool, extra obj) map[string]obj {
	variant := func(typ, content, desc string, own obj) obj {
		props := obj{
			"id":   obj{"type": "string", "description": "The step's id; runs and messages refer to it. Give an existing id to keep the step."},
			"type": obj{"type": "string", "enum": strs(typ)},
			"when": obj{"$ref": "#/components/schemas/Condition", "description": "The step is skipped when this condition is false"},
		}
		props[content] = ref(map[string]string{"email": "EmailContent", "whatsapp": "WhatsAppContent", "wait": "WaitSpec"}[content])
		if content == "whatsapp" && !idRequired {
			// As written, the template is optional beside free-form text.
			props[content] = ref("WhatsAppContentIn")
		}
		for k, v := range own {
			props[k] = v
		}
		for k, v := range extra {
			props[k] = v
		}
		req := []string{"type", content}
		out := obj{"type": "object", "description": desc, "properties": props}
		if idRequired {
			// As read: exactly these fields.
			req = append([]string{"id"}, req...)
			out["additionalProperties"] = false
		} else {
			// As written, the server also takes when: null (no condition),
			// fallback_channel "" (none) and, as v1 did, the other types'
			// fields when they are empty; anything else is a 422 naming it.
			props["when"] = obj{"description": "The step is skipped when this condition is false; null or absent: always run",
				"oneOf": []any{ref("Condition"), obj{"type": "null"}}}
			if fc, ok := props["fallback_channel"].(obj); ok {
				fc["enum"] = strs("email", "")
			}
		}
		out["required"] = strs(req...)
		return out
	}
	name := func(n string) string { return n + suffix }
	return map[string]obj{
		union: {
			"description": "A step of a workflow, by its type.",
			"oneOf":       []any{ref(name("SendEmailStep")), ref(name("SendWhatsAppStep")), ref(name("WaitStep"))},
			"discriminator": obj{"propertyName": "type", "mapping": obj{
				"send_email":    "#/components/schemas/" + name("SendEmailStep"),
				"send_whatsapp": "#/components/schemas/" + name("SendWhatsAppStep"),
				"wait":          "#/components/schemas/" + name("WaitStep"),
			}},
		},
		name("SendEmailStep"): variant("send_email", "email", "Sends an email.", nil),
		name("SendWhatsAppStep"): variant("send_whatsapp", "whatsapp",
			"Sends a WhatsApp template, or free-form text inside the 24-hour window a customer's reply opens (the template, else the email, outside it); with fallback_channel email, the email is sent when WhatsApp cannot reach the lead.",
			obj{
				"fallback_channel": obj{"type": "string", "enum": strs("email"), "description": "email: send the step's email when WhatsApp cannot reach the lead"},
				"email":            obj{"$ref": "#/components/schemas/EmailContent", "description": "Required with fallback_channel email, refused without it"},
			}),
		name("WaitStep"): variant("wait", "wait", "Waits before the next step.", nil),
	}
}

// schemaDocs says, per schema of the document, what the Go types cannot:
// the fixed values of each field, that arrays are never null, nullability as
// served, and the shapes of steps and conditions.
var schemaDocs = map[string]func(s obj){
	"Decision":      decisionDocs,
	"ResolutionOut": func(s obj) { decisionDocs(s); closed(s, "trigger", triggerValues...) },
	"SimulateOut": func(s obj) {
		decisionDocs(s)
		closed(s, "trigger", triggerValues...)
		notNull(s, "steps", "cancelled_by")
		closedItems(s, "cancelled_by", cancelledByValues...)
	},
	"TraceEntry":      traceDocs,
	"CoverageReport":  func(s obj) { closed(s, "mode", modeValues...); notNull(s, "triggers", "rules") },
	"RuleCoverage":    func(s obj) { closed(s, "trigger", anyTriggerValues...); notNull(s, "fields") },
	"TriggerCoverage": func(s obj) { closed(s, "trigger", triggerValues...); notNull(s, "rules", "warnings") },
	"CoverageWarning": func(s obj) {
		open(s, "code", resolver.WarnRuleWorkflowDisabled, resolver.WarnRuleWorkflowMissing, resolver.WarnRuleWorkflowWrongTrigger,
			resolver.WarnRuleInvalidCondition, resolver.WarnRuleShadowed, resolver.WarnOverrideWorkflowDisabled,
			resolver.WarnOverrideWorkflowMissing, resolver.WarnOverrideWorkflowWrongTrigger)
	},
	"CoverageOutcome": func(s obj) { closed(s, "outcome", outcomeValues...); open(s, "reason", decisionReasons...) },
	"EventOut":        eventDocs,
	"EventDetailOut":  func(s obj) { eventDocs(s); prop(s, "context")["type"] = "object" },
	"RunOut":          func(s obj) { closed(s, "trigger", triggerValues...); notNull(s, "steps") },
	"RunStepOut": func(s obj) {
		closed(s, "type", stepTypeValues...)
		// What the step did: a message's status when it sent one, or
		// condition_false, condition_unknown, waited, render_failed.
		open(s, "outcome", append([]string{"condition_false", "condition_unknown", "waited", "render_failed"}, messageStatusValues...)...)
	},
	"AttemptOut": func(s obj) {
		closed(s, "provider", providerValues...)
		closed(s, "outcome", "", "sent", "retry", "failed", "unknown")
		closed(s, "error_class", errorClassValues...)
	},
	"CircuitOut": func(s obj) { closed(s, "provider", providerValues...) },
	"TemplateOut": func(s obj) {
		// Meta's own values, which Meta may extend.
		open(s, "status", "APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED")
		open(s, "category", "MARKETING", "UTILITY", "AUTHENTICATION")
	},
	"MessageOut": messageDocs,
	"MessageDetailOut": func(s obj) {
		messageDocs(s)
		notNull(s, "attempt_list", "receipts")
	},
	"ReceiptOut": func(s obj) {
		closed(s, "status", receiptValues...)
		closed(s, "error_class", messageErrorClassValues...)
	},
	"OverrideOut": func(s obj) {
		closed(s, "trigger", anyTriggerValues...)
		closed(s, "action", "workflow", "suppress")
	},
	"RuleOut": func(s obj) {
		closed(s, "trigger", anyTriggerValues...)
		setProp(s, "condition", ref("Condition"))
	},
	"RuleIn":    func(s obj) { setProp(s, "condition", ref("Condition")) },
	"RulePatch": func(s obj) { setProp(s, "condition", ref("Condition")) },
	"WorkflowOut": func(s obj) {
		closed(s, "trigger", triggerValues...)
		notNull(s, "exit_on", "steps")
		closedItems(s, "exit_on", exitOnValues...)
		prop(s, "steps")["items"] = ref("Step")
	},
	"WorkflowIn":    workflowInDocs,
	"WorkflowPatch": workflowInDocs,
	"LegacySetting": func(s obj) { closedItems(s, "channels", channelValues...) },
	"StepPatch": func(s obj) {
		closed(s, "fallback_channel", "email", "")
		setProp(s, "when", obj{"description": "A condition; null removes it", "oneOf": []any{ref("Condition"), obj{"type": "null"}}})
	},
	"TenantOut":        tenantDocs,
	"CreatedTenantOut": tenantDocs,
	"EmailChannelOut": func(s obj) {
		closed(s, "provider", "smtp", "log")
		closed(s, "tls", "starttls", "tls", "none")
	},
	"WhatsAppChannelOut": func(s obj) { closed(s, "provider", "cloud_api", "log") },
	"LeadOut":            func(s obj) { notNull(s, "tags") },
	"PlannedStepOut": func(s obj) {
		closed(s, "type", stepTypeValues...)
		closed(s, "channel", channelValues...)
		notNull(s, "missing_fields")
	},
	"StepPreviewOut":   func(s obj) { closed(s, "type", stepTypeValues...); notNull(s, "missing_fields") },
	"RenderedWhatsApp": func(s obj) { notNull(s, "parameters") },
	"TimelineOut":      func(s obj) { notNull(s, "events", "runs", "messages", "inbound", "consent_changes") },
	"InboundOut": func(s obj) {
		closed(s, "match", inboundMatchValues...)
		closed(s, "consent", "opt_out", "opt_in")
		open(s, "type", inboundTypeValues...)
		notNull(s, "candidates")
		prop(s, "raw")["type"] = "object"
	},
	"ConsentChangeOut": func(s obj) {
		closed(s, "channel", channelValues...)
		open(s, "source", consentSourceValues...)
	},
	"ConsentKeywordsOut": func(s obj) { notNull(s, "opt_out", "opt_in") },
	"StatsReplyOut":      func(s obj) { notNull(s, "reply_counts", "opt_out_counts", "unsubscribe_counts") },
	"PublicQuoteOut":     func(s obj) { closed(s, "status", quoteStatusValues...) },
	"Problem": func(s obj) {
		open(s, "type", problemTypes()...)
		notNull(s, "errors")
	},
}

func decisionDocs(s obj) {
	closed(s, "outcome", outcomeValues...)
	closed(s, "source", sourceValues...)
	open(s, "reason", decisionReasons...)
	notNull(s, "missing_fields", "trace")
}

func traceDocs(s obj) {
	closed(s, "kind", traceKindValues...)
	closed(s, "result", traceResultValues...)
	open(s, "reason", traceReasons...)
	closed(s, "op", condition.Operators...)
	prop(s, "expected")["description"] = "The value the condition expected"
	prop(s, "actual")["description"] = "The value the context held"
}

func eventDocs(s obj) {
	closed(s, "trigger", triggerValues...)
	closed(s, "action", actionValues...)
}

func messageDocs(s obj) {
	closed(s, "trigger", triggerValues...)
	closed(s, "error_class", messageErrorClassValues...)
}

func tenantDocs(s obj) {
	nullableRef(s, "quiet_hours", "QuietHours", "The daily window when nothing is sent; null when there is none")
	notNull(s, "holidays")
}

func workflowInDocs(s obj) {
	closedItems(s, "exit_on", exitOnValues...)
	prop(s, "steps")["items"] = ref("StepIn")
}

// applySchemaDocs rewrites the document's schemas m with schemaDocs, and
// adds the schemas they refer to.
func applySchemaDocs(m map[string]obj) {
	for name, doc := range schemaDocs {
		if s, ok := m[name]; ok {
			doc(s)
		}
	}
	// Lists (List[T] in Go, ListXOut here) are made by listOf: items is
	// always an array.
	for name, s := range m {
		if strings.HasPrefix(name, "List") && strings.HasSuffix(name, "Out") {
			notNull(s, "items")
		}
	}
	// The step unions replace the schemas huma made from the structs: Step
	// (read), StepIn (written) and AddStepIn (added, with its position).
	var position obj
	if add, ok := m["AddStepIn"]; ok {
		position = prop(add, "position")
	}
	for _, u := range []struct {
		union, suffix string
		id            bool
		extra         obj
	}{{"Step", "", true, nil}, {"StepIn", "In", false, nil}, {"AddStepIn", "AddIn", false, obj{"position": position}}} {
		if _, ok := m[u.union]; !ok {
			continue
		}
		for name, s := range stepSchemas(u.union, u.suffix, u.id, u.extra) {
			m[name] = s
		}
	}
	for name, s := range conditionSchemas() {
		m[name] = s
	}
}
