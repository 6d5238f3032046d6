package engine

import (
	"strings"
	"time"
)

// Context is what conditions and templates see: the lead, the quote that
// caused the event (nil when resolving without one), and the tenant.
type Context struct {
	Tenant   *Tenant
	Lead     *Lead
	Quote    *Quote
	QuoteURL string // the customer's link to the quote
	// WhatsAppWindowEnd is when the customer-service window of the lead's
	// number closes (its last inbound message plus WhatsAppWindow); zero
	// when it never opened or was not read. Not a field conditions see.
	WhatsAppWindowEnd time.Time
}

// FieldKind is the type a context field holds, used to type-check
// conditions at save time and to compare values at evaluation time.
type FieldKind uint8

// Field kinds. FieldAny is a custom field, whose type is whatever JSON the
// lead carries.
const (
	FieldString FieldKind = iota + 1
	FieldNumber
	FieldBool
	FieldList
	FieldTime
	FieldAny
)

func (k FieldKind) String() string {
	switch k {
	case FieldString:
		return "string"
	case FieldNumber:
		return "number"
	case FieldBool:
		return "boolean"
	case FieldList:
		return "list"
	case FieldTime:
		return "timestamp"
	case FieldAny:
		return "any"
	}
	return "unknown"
}

// FieldInfo describes one field of the lead context.
type FieldInfo struct {
	Path string
	Kind FieldKind
	Doc  string
}

// CustomPrefix starts the path of a lead's custom field: lead.custom.roof_type.
const CustomPrefix = "lead.custom."

// Fields is the catalogue of the lead context, the single source of truth
// for which names conditions and templates may use. An empty string, a zero
// time and an absent custom key are missing; lists and booleans are always
// present.
var Fields = []FieldInfo{
	{"lead.id", FieldString, "the lead's id"},
	{"lead.first_name", FieldString, "first name"},
	{"lead.last_name", FieldString, "last name"},
	{"lead.name", FieldString, "first and last name"},
	{"lead.email", FieldString, "email address"},
	{"lead.phone", FieldString, "phone number, E.164"},
	{"lead.language", FieldString, "language code, e.g. pt"},
	{"lead.country", FieldString, "ISO 3166-1 alpha-2 country"},
	{"lead.timezone", FieldString, "IANA timezone"},
	{"lead.source", FieldString, "where the lead came from"},
	{"lead.stage", FieldString, "pipeline stage"},
	{"lead.tags", FieldList, "tags"},
	{"lead.owner", FieldString, "the salesperson who owns the lead"},
	{"lead.email_opt_out", FieldBool, "the lead opted out of email"},
	{"lead.whatsapp_opt_in", FieldBool, "the lead opted in to WhatsApp"},
	{"lead.created_at", FieldTime, "when the lead was created"},
	{"quote.id", FieldString, "the quote's id"},
	{"quote.number", FieldString, "quote number, e.g. Q-1001"},
	{"quote.amount", FieldNumber, "amount in major units"},
	{"quote.currency", FieldString, "ISO 4217 currency"},
	{"quote.status", FieldString, "draft, sent, viewed, accepted, rejected or expired"},
	{"quote.valid_until", FieldTime, "when the quote expires"},
	{"quote.revision", FieldNumber, "content revision"},
	{"quote.url", FieldString, "the customer's link to the quote"},
	{"quote.rejection_reason", FieldString, "why the customer rejected it"},
	{"quote.created_at", FieldTime, "when the quote was created"},
	{"tenant.name", FieldString, "the tenant's company name"},
	{"tenant.timezone", FieldString, "the tenant's IANA timezone"},
}

var fieldsByPath = func() map[string]FieldInfo {
	m := make(map[string]FieldInfo, len(Fields))
	for _, f := range Fields {
		m[f.Path] = f
	}
	return m
}()

// LookupField returns the catalogue entry for path. Any path under
// lead.custom. with a non-empty key is a custom field of kind FieldAny.
func LookupField(path string) (FieldInfo, bool) {
	if f, ok := fieldsByPath[path]; ok {
		return f, true
	}
	if key, ok := strings.CutPrefix(path, CustomPrefix); ok && key != "" && !strings.Contains(key, ".") {
		return FieldInfo{Path: path, Kind: FieldAny, Doc: "custom field"}, true
	}
	return FieldInfo{}, false
}
