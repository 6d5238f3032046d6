package condition

import (
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// customSlots is how many distinct custom keys an evaluation caches in
// evalEnv itself. A lone condition with more looks the rest up in the
// lead's map every time; a Set gives every key a slot and caches the
// ones beyond customSlots in evalEnv.more.
const customSlots = 16

// evalEnv is one context prepared for evaluating conditions. The fields
// conditions read most are copied into arrays indexed by fieldID, so that
// a leaf reads its field with one load; values that cost something to
// derive (the amount in major units, a custom field's map lookup) are
// computed once per resolution, however many rules read them.
//
// Everything is held by value but the lead's tags and custom map, so that
// a resolution can keep a copy of the environment (see snapshot) and
// explain itself later, whatever the caller does to the lead meanwhile.
type evalEnv struct {
	hasLead, hasQuote bool
	optOut, optIn     bool // lead.email_opt_out, lead.whatsapp_opt_in

	strs  [fCustom]string  // string fields; "" is missing
	nums  [fCustom]float64 // number fields, present when quote is
	times [3]time.Time     // see when; the zero time is missing
	tags  []string         // lead.tags

	// customMap is the lead's custom fields, nil in a snapshot.
	customMap map[string]any
	// custom caches custom fields by slot: nil is not looked up yet,
	// missingValue{} is missing; more holds slots from customSlots on,
	// in a Set's Env.
	custom [customSlots]any
	more   []any
	// memo holds the results of a Set's distinct leaves; see
	// Condition.evalLeaf. Nil outside a Set.
	memo []uint8
}

// missingValue marks a custom field known to be missing in evalEnv.custom.
type missingValue struct{}

func newEnv(ctx *engine.Context) evalEnv {
	var e evalEnv
	e.fill(ctx)
	return e
}

// fill sets e up for ctx; e must be zero.
func (e *evalEnv) fill(ctx *engine.Context) {
	if ctx == nil {
		return
	}
	if l := ctx.Lead; l != nil {
		e.hasLead = true
		e.optOut, e.optIn = l.EmailOptOut, l.WhatsAppOptIn
		e.tags, e.customMap = l.Tags, l.Custom
		e.times[0] = l.CreatedAt
		e.strs[fLeadID] = l.ID
		e.strs[fLeadFirstName] = l.FirstName
		e.strs[fLeadLastName] = l.LastName
		e.strs[fLeadEmail] = l.Email
		e.strs[fLeadPhone] = l.Phone
		e.strs[fLeadLanguage] = l.Language
		e.strs[fLeadCountry] = l.Country
		e.strs[fLeadTimezone] = l.Timezone
		e.strs[fLeadSource] = l.Source
		e.strs[fLeadStage] = l.Stage
		e.strs[fLeadOwner] = l.Owner
	}
	if q := ctx.Quote; q != nil {
		e.hasQuote = true
		e.times[1] = q.CreatedAt
		if q.ValidUntil != nil {
			e.times[2] = *q.ValidUntil
		}
		e.strs[fQuoteID] = q.ID
		e.strs[fQuoteNumber] = q.Number
		e.strs[fQuoteCurrency] = q.Currency
		e.strs[fQuoteStatus] = string(q.Status)
		e.strs[fQuoteURL] = ctx.QuoteURL
		e.strs[fQuoteRejectionReason] = q.RejectionReason
		e.nums[fQuoteAmount] = q.Amount()
		e.nums[fQuoteRevision] = float64(q.Revision)
	}
	if t := ctx.Tenant; t != nil {
		e.strs[fTenantName] = t.Name
		e.strs[fTenantTimezone] = t.Timezone
	}
}

// str returns a string field; "" means missing.
func (e *evalEnv) str(id fieldID) string {
	if id == fLeadName {
		// Only explanations read the joined name, once per field (see
		// actual); conditions compare it in parts, in leaf.evalName.
		if !e.hasLead {
			return ""
		}
		return joinName(e.strs[fLeadFirstName], e.strs[fLeadLastName])
	}
	return e.strs[id]
}

// num returns a number field. Numbers are present whenever the quote is.
func (e *evalEnv) num(id fieldID) (float64, bool) {
	return e.nums[id], e.hasQuote
}

func (e *evalEnv) boolean(id fieldID) (v, ok bool) {
	if !e.hasLead {
		return false, false
	}
	switch id {
	case fLeadEmailOptOut:
		return e.optOut, true
	case fLeadWhatsAppOptIn:
		return e.optIn, true
	}
	return false, false
}

// list returns a list field; an empty list is present.
func (e *evalEnv) list(id fieldID) ([]string, bool) {
	if !e.hasLead || id != fLeadTags {
		return nil, false
	}
	return e.tags, true
}

// when returns a time field; the zero time means missing.
func (e *evalEnv) when(id fieldID) time.Time {
	switch id {
	case fLeadCreatedAt:
		return e.times[0]
	case fQuoteCreatedAt:
		return e.times[1]
	case fQuoteValidUntil:
		return e.times[2]
	}
	return time.Time{}
}

// customValue returns a custom field; an absent key and a JSON null are
// missing.
func (e *evalEnv) customValue(l *leaf) (any, bool) {
	if l.slot < 0 {
		return e.lookupCustom(l.aux.key)
	}
	var c *any
	if l.slot < customSlots {
		c = &e.custom[l.slot]
	} else if int(l.slot)-customSlots < len(e.more) {
		c = &e.more[int(l.slot)-customSlots]
	} else {
		return e.lookupCustom(l.aux.key)
	}
	if *c == nil {
		v, ok := e.lookupCustom(l.aux.key)
		if !ok {
			v = missingValue{}
		}
		*c = v
	}
	if _, missing := (*c).(missingValue); missing {
		return nil, false
	}
	return *c, true
}

func (e *evalEnv) lookupCustom(key string) (any, bool) {
	v, ok := e.customMap[key]
	return v, ok && v != nil
}

// boxedFields holds built-in fields' values as interfaces for trace
// entries, so that a field that fails a thousand rules is boxed once.
type boxedFields [fCustom]any

// actual returns the value of l's field as an interface, for a trace. It
// allocates at most once per field and boxedFields.
func (e *evalEnv) actual(l *leaf, boxed *boxedFields) any {
	if l.field == fCustom {
		v, _ := e.customValue(l)
		return v
	}
	if v := boxed[l.field]; v != nil {
		return v
	}
	var v any
	switch l.kind {
	case engine.FieldString:
		if s := e.str(l.field); s != "" {
			v = s
		}
	case engine.FieldNumber:
		if f, ok := e.num(l.field); ok {
			v = f
		}
	case engine.FieldBool:
		if b, ok := e.boolean(l.field); ok {
			v = b
		}
	case engine.FieldList:
		if list, ok := e.list(l.field); ok {
			// A copy: the trace must not change if the lead's tags do.
			v = append([]string{}, list...)
		}
	case engine.FieldTime:
		if t := e.when(l.field); !t.IsZero() {
			v = t.Format(time.RFC3339Nano)
		}
	}
	boxed[l.field] = v
	return v
}
