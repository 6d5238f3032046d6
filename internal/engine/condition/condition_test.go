package condition

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/engine/enginetest"
)

// fullCtx is a context in which every catalogue field but lead.timezone is
// present, with custom fields of every JSON type.
func fullCtx() *engine.Context { return enginetest.FullContext() }

func mustParse(t testing.TB, src string) *Condition {
	t.Helper()
	c, err := Parse(json.RawMessage(src))
	if err != nil {
		t.Fatalf("Parse(%s): %v", src, err)
	}
	return c
}

func TestConditionOperators(t *testing.T) {
	t.Parallel()
	full := fullCtx()

	noQuote := fullCtx()
	noQuote.Quote = nil
	noQuote.QuoteURL = ""

	emptyLead := &engine.Context{Lead: &engine.Lead{}, Quote: &engine.Quote{Currency: "EUR"}}

	mixedList := fullCtx()
	mixedList.Lead.Custom = map[string]any{"flags": []any{true, "x", int64(3), map[string]any{}}}

	firstOnly := fullCtx()
	firstOnly.Lead.LastName = ""

	// lead.name is what templates show: first and last, trimmed.
	spaced := fullCtx()
	spaced.Lead.FirstName, spaced.Lead.LastName = "  Ana ", "Silva \t"
	blankFirst := fullCtx()
	blankFirst.Lead.FirstName, blankFirst.Lead.LastName = " ", " Silva"
	blank := fullCtx()
	blank.Lead.FirstName, blank.Lead.LastName = " ", "\n"

	tests := []struct {
		name string
		ctx  *engine.Context
		cond string
		want Truth
	}{
		// Strings, case-sensitive.
		{"string eq", full, `{"field":"lead.source","op":"eq","value":"web"}`, TruthTrue},
		{"string eq is case-sensitive", full, `{"field":"lead.source","op":"eq","value":"Web"}`, TruthFalse},
		{"string neq", full, `{"field":"lead.source","op":"neq","value":"phone"}`, TruthTrue},
		{"string neq same", full, `{"field":"lead.source","op":"neq","value":"web"}`, TruthFalse},
		{"string in", full, `{"field":"lead.source","op":"in","value":["phone","web"]}`, TruthTrue},
		{"string in miss", full, `{"field":"lead.source","op":"in","value":["phone"]}`, TruthFalse},
		{"string in empty list", full, `{"field":"lead.source","op":"in","value":[]}`, TruthFalse},
		{"string in large set", full, `{"field":"lead.country","op":"in","value":["a","b","c","d","e","f","g","h","i","PT"]}`, TruthTrue},
		{"string nin large set", full, `{"field":"lead.country","op":"nin","value":["a","b","c","d","e","f","g","h","i","ES"]}`, TruthTrue},
		{"string nin", full, `{"field":"lead.source","op":"nin","value":["phone"]}`, TruthTrue},
		{"string nin hit", full, `{"field":"lead.source","op":"nin","value":["web"]}`, TruthFalse},
		{"string contains", full, `{"field":"lead.email","op":"contains","value":"@example"}`, TruthTrue},
		{"string contains miss", full, `{"field":"lead.email","op":"contains","value":"@other"}`, TruthFalse},
		{"string prefix", full, `{"field":"lead.phone","op":"prefix","value":"+351"}`, TruthTrue},
		{"string prefix miss", full, `{"field":"lead.phone","op":"prefix","value":"+34"}`, TruthFalse},
		{"string exists", full, `{"field":"lead.owner","op":"exists"}`, TruthTrue},
		{"string missing", full, `{"field":"lead.owner","op":"missing"}`, TruthFalse},
		{"quote status", full, `{"field":"quote.status","op":"eq","value":"sent"}`, TruthTrue},
		{"quote url", full, `{"field":"quote.url","op":"prefix","value":"https://"}`, TruthTrue},
		{"quote number", full, `{"field":"quote.number","op":"eq","value":"Q-1001"}`, TruthTrue},
		{"quote id", full, `{"field":"quote.id","op":"eq","value":"q_1"}`, TruthTrue},
		{"quote currency", full, `{"field":"quote.currency","op":"eq","value":"EUR"}`, TruthTrue},
		{"tenant name", full, `{"field":"tenant.name","op":"prefix","value":"Acme"}`, TruthTrue},
		{"tenant timezone", full, `{"field":"tenant.timezone","op":"eq","value":"Europe/Lisbon"}`, TruthTrue},
		{"lead id", full, `{"field":"lead.id","op":"eq","value":"lead_1"}`, TruthTrue},
		{"lead language", full, `{"field":"lead.language","op":"eq","value":"pt"}`, TruthTrue},
		{"lead stage", full, `{"field":"lead.stage","op":"eq","value":"new"}`, TruthTrue},
		{"lead first name", full, `{"field":"lead.first_name","op":"eq","value":"Ana"}`, TruthTrue},
		{"lead last name", full, `{"field":"lead.last_name","op":"eq","value":"Silva"}`, TruthTrue},

		// lead.name is compared without being built.
		{"name eq", full, `{"field":"lead.name","op":"eq","value":"Ana Silva"}`, TruthTrue},
		{"name eq no space", full, `{"field":"lead.name","op":"eq","value":"AnaSilva"}`, TruthFalse},
		{"name eq first only", full, `{"field":"lead.name","op":"eq","value":"Ana"}`, TruthFalse},
		{"name neq", full, `{"field":"lead.name","op":"neq","value":"Ana"}`, TruthTrue},
		{"name in", full, `{"field":"lead.name","op":"in","value":["Bo","Ana Silva"]}`, TruthTrue},
		{"name nin", full, `{"field":"lead.name","op":"nin","value":["Ana Silva"]}`, TruthFalse},
		{"name prefix in first", full, `{"field":"lead.name","op":"prefix","value":"An"}`, TruthTrue},
		{"name prefix across", full, `{"field":"lead.name","op":"prefix","value":"Ana Si"}`, TruthTrue},
		{"name prefix wrong", full, `{"field":"lead.name","op":"prefix","value":"Ana X"}`, TruthFalse},
		{"name prefix too long", full, `{"field":"lead.name","op":"prefix","value":"Ana Silvas"}`, TruthFalse},
		{"name contains across", full, `{"field":"lead.name","op":"contains","value":"na Si"}`, TruthTrue},
		{"name contains space", full, `{"field":"lead.name","op":"contains","value":" "}`, TruthTrue},
		{"name contains in last", full, `{"field":"lead.name","op":"contains","value":"ilv"}`, TruthTrue},
		{"name contains miss", full, `{"field":"lead.name","op":"contains","value":"a  S"}`, TruthFalse},
		{"name first only", firstOnly, `{"field":"lead.name","op":"eq","value":"Ana"}`, TruthTrue},
		{"name trimmed", spaced, `{"field":"lead.name","op":"eq","value":"Ana  Silva"}`, TruthTrue},
		{"name trimmed prefix", spaced, `{"field":"lead.name","op":"prefix","value":"Ana  S"}`, TruthTrue},
		{"name blank first", blankFirst, `{"field":"lead.name","op":"eq","value":"Silva"}`, TruthTrue},
		{"name blank", blank, `{"field":"lead.name","op":"missing"}`, TruthTrue},
		{"name missing", emptyLead, `{"field":"lead.name","op":"eq","value":"Ana"}`, TruthUnknown},
		{"name missing exists", emptyLead, `{"field":"lead.name","op":"exists"}`, TruthFalse},

		// Missing strings are unknown, except to exists and missing.
		{"missing eq", full, `{"field":"lead.timezone","op":"eq","value":"Europe/Lisbon"}`, TruthUnknown},
		{"missing neq", full, `{"field":"lead.timezone","op":"neq","value":"x"}`, TruthUnknown},
		{"missing in", full, `{"field":"lead.timezone","op":"in","value":["x"]}`, TruthUnknown},
		{"missing nin", full, `{"field":"lead.timezone","op":"nin","value":["x"]}`, TruthUnknown},
		{"missing contains", full, `{"field":"lead.timezone","op":"contains","value":"x"}`, TruthUnknown},
		{"missing prefix", full, `{"field":"lead.timezone","op":"prefix","value":"x"}`, TruthUnknown},
		{"missing exists", full, `{"field":"lead.timezone","op":"exists"}`, TruthFalse},
		{"missing missing", full, `{"field":"lead.timezone","op":"missing"}`, TruthTrue},

		// Numbers as float64; the amount is in major units.
		{"number eq", full, `{"field":"quote.amount","op":"eq","value":1250}`, TruthTrue},
		{"number eq decimal", full, `{"field":"quote.amount","op":"eq","value":1250.5}`, TruthFalse},
		{"number neq", full, `{"field":"quote.amount","op":"neq","value":1000}`, TruthTrue},
		{"number gt", full, `{"field":"quote.amount","op":"gt","value":1000}`, TruthTrue},
		{"number gt equal", full, `{"field":"quote.amount","op":"gt","value":1250}`, TruthFalse},
		{"number gte equal", full, `{"field":"quote.amount","op":"gte","value":1250}`, TruthTrue},
		{"number gte above", full, `{"field":"quote.amount","op":"gte","value":1250.01}`, TruthFalse},
		{"number lt", full, `{"field":"quote.amount","op":"lt","value":2000}`, TruthTrue},
		{"number lt equal", full, `{"field":"quote.amount","op":"lt","value":1250}`, TruthFalse},
		{"number lte equal", full, `{"field":"quote.amount","op":"lte","value":1250}`, TruthTrue},
		{"number lte below", full, `{"field":"quote.amount","op":"lte","value":1249.99}`, TruthFalse},
		{"number in", full, `{"field":"quote.amount","op":"in","value":[1000,1250]}`, TruthTrue},
		{"number nin", full, `{"field":"quote.amount","op":"nin","value":[1250]}`, TruthFalse},
		{"number exists", full, `{"field":"quote.amount","op":"exists"}`, TruthTrue},
		{"zero amount is present", emptyLead, `{"field":"quote.amount","op":"eq","value":0}`, TruthTrue},
		{"revision", full, `{"field":"quote.revision","op":"eq","value":2}`, TruthTrue},
		{"number without quote", noQuote, `{"field":"quote.amount","op":"gt","value":1}`, TruthUnknown},
		{"number without quote exists", noQuote, `{"field":"quote.amount","op":"exists"}`, TruthFalse},
		{"number without quote missing", noQuote, `{"field":"quote.revision","op":"missing"}`, TruthTrue},
		{"quote string without quote", noQuote, `{"field":"quote.number","op":"eq","value":"Q-1001"}`, TruthUnknown},
		{"quote url without quote", noQuote, `{"field":"quote.url","op":"exists"}`, TruthFalse},

		// Booleans are always present.
		{"bool eq true", full, `{"field":"lead.whatsapp_opt_in","op":"eq","value":true}`, TruthTrue},
		{"bool eq false", full, `{"field":"lead.whatsapp_opt_in","op":"eq","value":false}`, TruthFalse},
		{"bool neq", full, `{"field":"lead.whatsapp_opt_in","op":"neq","value":true}`, TruthFalse},
		{"bool in", full, `{"field":"lead.whatsapp_opt_in","op":"in","value":[true]}`, TruthTrue},
		{"bool nin", full, `{"field":"lead.whatsapp_opt_in","op":"nin","value":[true]}`, TruthFalse},
		{"bool false is present", full, `{"field":"lead.email_opt_out","op":"eq","value":false}`, TruthTrue},
		{"bool exists", emptyLead, `{"field":"lead.email_opt_out","op":"exists"}`, TruthTrue},

		// Lists: contains, in (any overlap), nin (no overlap).
		{"list contains", full, `{"field":"lead.tags","op":"contains","value":"vip"}`, TruthTrue},
		{"list contains miss", full, `{"field":"lead.tags","op":"contains","value":"gold"}`, TruthFalse},
		{"list in", full, `{"field":"lead.tags","op":"in","value":["gold","vip"]}`, TruthTrue},
		{"list in miss", full, `{"field":"lead.tags","op":"in","value":["gold"]}`, TruthFalse},
		{"list nin", full, `{"field":"lead.tags","op":"nin","value":["gold"]}`, TruthTrue},
		{"list nin hit", full, `{"field":"lead.tags","op":"nin","value":["vip"]}`, TruthFalse},
		{"list exists", full, `{"field":"lead.tags","op":"exists"}`, TruthTrue},
		{"list missing", full, `{"field":"lead.tags","op":"missing"}`, TruthFalse},
		{"empty list contains", emptyLead, `{"field":"lead.tags","op":"contains","value":"vip"}`, TruthFalse},
		{"empty list in", emptyLead, `{"field":"lead.tags","op":"in","value":["vip"]}`, TruthFalse},
		{"empty list nin", emptyLead, `{"field":"lead.tags","op":"nin","value":["vip"]}`, TruthTrue},
		{"empty list exists", emptyLead, `{"field":"lead.tags","op":"exists"}`, TruthTrue},

		// Timestamps compare as instants.
		{"time eq other offset", full, `{"field":"lead.created_at","op":"eq","value":"2026-01-10T10:00:00+01:00"}`, TruthTrue},
		{"time neq", full, `{"field":"lead.created_at","op":"neq","value":"2026-01-10T09:00:00Z"}`, TruthFalse},
		{"time gt", full, `{"field":"lead.created_at","op":"gt","value":"2026-01-01T00:00:00Z"}`, TruthTrue},
		{"time gt equal", full, `{"field":"lead.created_at","op":"gt","value":"2026-01-10T09:00:00Z"}`, TruthFalse},
		{"time gte equal", full, `{"field":"lead.created_at","op":"gte","value":"2026-01-10T09:00:00Z"}`, TruthTrue},
		{"time lt", full, `{"field":"lead.created_at","op":"lt","value":"2026-01-10T09:00:00.5Z"}`, TruthTrue},
		{"time lte", full, `{"field":"lead.created_at","op":"lte","value":"2026-01-10T08:59:59Z"}`, TruthFalse},
		{"time in", full, `{"field":"lead.created_at","op":"in","value":["2025-01-01T00:00:00Z","2026-01-10T09:00:00Z"]}`, TruthTrue},
		{"time nin", full, `{"field":"lead.created_at","op":"nin","value":["2026-01-10T09:00:00Z"]}`, TruthFalse},
		{"valid until", full, `{"field":"quote.valid_until","op":"lt","value":"2026-07-01T00:00:00Z"}`, TruthTrue},
		{"quote created", full, `{"field":"quote.created_at","op":"gt","value":"2026-01-10T09:00:00Z"}`, TruthTrue},
		{"valid until nil", emptyLead, `{"field":"quote.valid_until","op":"lt","value":"2026-07-01T00:00:00Z"}`, TruthUnknown},
		{"zero time missing", emptyLead, `{"field":"lead.created_at","op":"missing"}`, TruthTrue},

		// Custom fields compare by the JSON type the lead holds.
		{"custom string eq", full, `{"field":"lead.custom.roof_type","op":"eq","value":"tile"}`, TruthTrue},
		{"custom string neq", full, `{"field":"lead.custom.roof_type","op":"neq","value":"slate"}`, TruthTrue},
		{"custom string neq same", full, `{"field":"lead.custom.roof_type","op":"neq","value":"tile"}`, TruthFalse},
		{"custom string eq number mismatch", full, `{"field":"lead.custom.roof_type","op":"eq","value":5}`, TruthFalse},
		{"custom string neq number mismatch", full, `{"field":"lead.custom.roof_type","op":"neq","value":5}`, TruthFalse},
		{"custom string in mixed", full, `{"field":"lead.custom.roof_type","op":"in","value":[1,"tile",true]}`, TruthTrue},
		{"custom string nin", full, `{"field":"lead.custom.roof_type","op":"nin","value":["tile"]}`, TruthFalse},
		{"custom string contains", full, `{"field":"lead.custom.roof_type","op":"contains","value":"il"}`, TruthTrue},
		{"custom string contains number mismatch", full, `{"field":"lead.custom.roof_type","op":"contains","value":1}`, TruthFalse},
		{"custom string prefix", full, `{"field":"lead.custom.roof_type","op":"prefix","value":"ti"}`, TruthTrue},
		{"custom string gt number mismatch", full, `{"field":"lead.custom.roof_type","op":"gt","value":5}`, TruthFalse},
		{"custom string gt time not a time", full, `{"field":"lead.custom.roof_type","op":"gt","value":"2026-01-01T00:00:00Z"}`, TruthFalse},
		{"custom time gt", full, `{"field":"lead.custom.inspected_at","op":"gt","value":"2026-03-01T08:00:00Z"}`, TruthTrue},
		{"custom time lt", full, `{"field":"lead.custom.inspected_at","op":"lt","value":"2026-03-01T08:00:00Z"}`, TruthFalse},
		{"custom time gte same instant", full, `{"field":"lead.custom.inspected_at","op":"gte","value":"2026-03-01T09:00:00Z"}`, TruthTrue},
		{"custom number eq", full, `{"field":"lead.custom.floors","op":"eq","value":2}`, TruthTrue},
		{"custom number gt", full, `{"field":"lead.custom.floors","op":"gt","value":1}`, TruthTrue},
		{"custom number lte", full, `{"field":"lead.custom.floors","op":"lte","value":1}`, TruthFalse},
		{"custom number eq string mismatch", full, `{"field":"lead.custom.floors","op":"eq","value":"2"}`, TruthFalse},
		{"custom number gt time mismatch", full, `{"field":"lead.custom.floors","op":"gt","value":"2026-01-01T00:00:00Z"}`, TruthFalse},
		{"custom number in", full, `{"field":"lead.custom.floors","op":"in","value":[1,2]}`, TruthTrue},
		{"custom number nin", full, `{"field":"lead.custom.floors","op":"nin","value":["2"]}`, TruthTrue},
		{"custom number contains mismatch", full, `{"field":"lead.custom.floors","op":"contains","value":2}`, TruthFalse},
		{"custom number prefix mismatch", full, `{"field":"lead.custom.floors","op":"prefix","value":"2"}`, TruthFalse},
		{"custom go int", full, `{"field":"lead.custom.go_int","op":"eq","value":3}`, TruthTrue},
		{"custom json.Number", full, `{"field":"lead.custom.json_number","op":"gt","value":3.5}`, TruthTrue},
		{"custom bool eq", full, `{"field":"lead.custom.solar","op":"eq","value":true}`, TruthTrue},
		{"custom bool neq", full, `{"field":"lead.custom.solar","op":"neq","value":false}`, TruthTrue},
		{"custom bool eq string mismatch", full, `{"field":"lead.custom.solar","op":"eq","value":"true"}`, TruthFalse},
		{"custom bool in", full, `{"field":"lead.custom.solar","op":"in","value":[true]}`, TruthTrue},
		{"custom bool gt mismatch", full, `{"field":"lead.custom.solar","op":"gt","value":0}`, TruthFalse},
		{"custom list contains", full, `{"field":"lead.custom.areas","op":"contains","value":"north"}`, TruthTrue},
		{"custom list contains miss", full, `{"field":"lead.custom.areas","op":"contains","value":"east"}`, TruthFalse},
		{"custom list contains other type", full, `{"field":"lead.custom.areas","op":"contains","value":1}`, TruthFalse},
		{"custom list in", full, `{"field":"lead.custom.areas","op":"in","value":["east","south"]}`, TruthTrue},
		{"custom list nin", full, `{"field":"lead.custom.areas","op":"nin","value":["north"]}`, TruthFalse},
		{"custom list nin miss", full, `{"field":"lead.custom.areas","op":"nin","value":["east"]}`, TruthTrue},
		{"custom list eq mismatch", full, `{"field":"lead.custom.areas","op":"eq","value":"north"}`, TruthFalse},
		{"custom number list contains", full, `{"field":"lead.custom.sizes","op":"contains","value":2}`, TruthTrue},
		{"custom number list in", full, `{"field":"lead.custom.sizes","op":"in","value":[5,1]}`, TruthTrue},
		{"custom mixed list contains bool", mixedList, `{"field":"lead.custom.flags","op":"contains","value":true}`, TruthTrue},
		{"custom mixed list contains number", mixedList, `{"field":"lead.custom.flags","op":"contains","value":3}`, TruthTrue},
		{"custom mixed list in bool", mixedList, `{"field":"lead.custom.flags","op":"in","value":[false,"y"]}`, TruthFalse},
		{"custom mixed list nin", mixedList, `{"field":"lead.custom.flags","op":"nin","value":["x"]}`, TruthFalse},
		{"custom mixed list in object", mixedList, `{"field":"lead.custom.flags","op":"in","value":[1]}`, TruthFalse},
		{"custom go string list contains", full, `{"field":"lead.custom.labels","op":"contains","value":"b"}`, TruthTrue},
		{"custom go string list in", full, `{"field":"lead.custom.labels","op":"in","value":["z"]}`, TruthFalse},
		{"custom go string list nin", full, `{"field":"lead.custom.labels","op":"nin","value":["z"]}`, TruthTrue},
		{"custom object mismatch", full, `{"field":"lead.custom.meta","op":"eq","value":"x"}`, TruthFalse},
		{"custom object exists", full, `{"field":"lead.custom.meta","op":"exists"}`, TruthTrue},
		{"custom null is missing", full, `{"field":"lead.custom.nothing","op":"exists"}`, TruthFalse},
		{"custom null eq unknown", full, `{"field":"lead.custom.nothing","op":"eq","value":"x"}`, TruthUnknown},
		{"custom absent unknown", full, `{"field":"lead.custom.absent","op":"eq","value":"x"}`, TruthUnknown},
		{"custom absent missing", full, `{"field":"lead.custom.absent","op":"missing"}`, TruthTrue},
		{"custom nil map", emptyLead, `{"field":"lead.custom.roof_type","op":"neq","value":"x"}`, TruthUnknown},

		// No lead or no context at all: every field is missing.
		{"nil context", nil, `{"field":"lead.source","op":"eq","value":"web"}`, TruthUnknown},
		{"nil context exists", nil, `{"field":"lead.tags","op":"exists"}`, TruthFalse},
		{"nil tenant", emptyLead, `{"field":"tenant.name","op":"missing"}`, TruthTrue},

		// Groups are three-valued.
		{"empty all", full, `{"all":[]}`, TruthTrue},
		{"empty any", full, `{"any":[]}`, TruthFalse},
		{"all true", full, `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"field":"lead.country","op":"eq","value":"PT"}]}`, TruthTrue},
		{"all true unknown", full, `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"field":"lead.timezone","op":"eq","value":"x"}]}`, TruthUnknown},
		{"all unknown false", full, `{"all":[{"field":"lead.timezone","op":"eq","value":"x"},{"field":"lead.country","op":"eq","value":"ES"}]}`, TruthFalse},
		{"any false unknown", full, `{"any":[{"field":"lead.country","op":"eq","value":"ES"},{"field":"lead.timezone","op":"eq","value":"x"}]}`, TruthUnknown},
		{"any unknown true", full, `{"any":[{"field":"lead.timezone","op":"eq","value":"x"},{"field":"lead.country","op":"eq","value":"PT"}]}`, TruthTrue},
		{"any false false", full, `{"any":[{"field":"lead.country","op":"eq","value":"ES"},{"field":"lead.source","op":"eq","value":"phone"}]}`, TruthFalse},
		{"nested", full, `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"any":[{"field":"lead.tags","op":"contains","value":"gold"},{"field":"quote.amount","op":"gte","value":1000}]}]}`, TruthTrue},
		{"all of empty any", full, `{"all":[{"any":[]}]}`, TruthFalse},
		{"any of empty all", full, `{"any":[{"all":[]}]}`, TruthTrue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustParse(t, tt.cond)
			if got := c.Eval(tt.ctx).Truth; got != tt.want {
				t.Errorf("Eval = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConditionNilIsTrue(t *testing.T) {
	t.Parallel()
	var c *Condition
	if r := c.Eval(fullCtx()); !r.Matched() {
		t.Fatalf("nil condition: %v, want true", r.Truth)
	}
	if got := c.MissingFields(nil); got == nil || len(got) != 0 {
		t.Fatalf("nil condition MissingFields = %#v, want empty non-nil", got)
	}
}

// TestConditionExplains checks that a result names the leaf that decided
// it, with the values a person needs to see why.
func TestConditionExplains(t *testing.T) {
	t.Parallel()
	ctx := fullCtx()
	tests := []struct {
		name     string
		cond     string
		truth    Truth
		path     string
		field    string
		op       string
		expected any
		actual   any
		missing  bool
		mismatch bool
		detail   string
	}{
		{
			name:  "first false leaf in a nested any",
			cond:  `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"any":[{"field":"lead.country","op":"eq","value":"ES"},{"field":"quote.amount","op":"gt","value":5000}]}]}`,
			truth: TruthFalse, path: "all[1].any[0]", field: "lead.country", op: "eq", expected: "ES", actual: "PT",
			detail: `condition false at all[1].any[0]: lead.country eq "ES", actual "PT"`,
		},
		{
			name:  "false beats an earlier unknown in all",
			cond:  `{"all":[{"field":"lead.timezone","op":"eq","value":"x"},{"field":"quote.amount","op":"lt","value":100}]}`,
			truth: TruthFalse, path: "all[1]", field: "quote.amount", op: "lt", expected: 100.0, actual: 1250.0,
			detail: `condition false at all[1]: quote.amount lt 100, actual 1250`,
		},
		{
			name:  "unknown names the missing field",
			cond:  `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"field":"lead.timezone","op":"prefix","value":"Europe/"}]}`,
			truth: TruthUnknown, path: "all[1]", field: "lead.timezone", op: "prefix", expected: "Europe/", missing: true,
			detail: `condition unknown at all[1]: lead.timezone prefix "Europe/", but the field is missing`,
		},
		{
			name:  "exists on a missing field",
			cond:  `{"field":"lead.timezone","op":"exists"}`,
			truth: TruthFalse, field: "lead.timezone", op: "exists", missing: true,
			detail: `condition false: lead.timezone exists, but the field is missing`,
		},
		{
			name:  "custom type mismatch",
			cond:  `{"field":"lead.custom.roof_type","op":"gt","value":5}`,
			truth: TruthFalse, field: "lead.custom.roof_type", op: "gt", expected: 5.0, actual: "tile", mismatch: true,
			detail: `condition false: lead.custom.roof_type gt 5, but the lead holds "tile", a string that gt cannot compare with that value`,
		},
		{
			name:  "custom object mismatch",
			cond:  `{"field":"lead.custom.meta","op":"eq","value":"x"}`,
			truth: TruthFalse, field: "lead.custom.meta", op: "eq", expected: "x", actual: map[string]any{"a": 1.0}, mismatch: true,
			detail: `condition false: lead.custom.meta eq "x", but the lead holds {"a":1}, an object that eq cannot compare with that value`,
		},
		{
			name:  "custom list mismatch",
			cond:  `{"field":"lead.custom.areas","op":"prefix","value":"n"}`,
			truth: TruthFalse, field: "lead.custom.areas", op: "prefix", expected: "n", actual: []any{"north", "south"}, mismatch: true,
			detail: `condition false: lead.custom.areas prefix "n", but the lead holds ["north","south"], a list that prefix cannot compare with that value`,
		},
		{
			name:  "custom number mismatch",
			cond:  `{"field":"lead.custom.floors","op":"eq","value":"2"}`,
			truth: TruthFalse, field: "lead.custom.floors", op: "eq", expected: "2", actual: 2.0, mismatch: true,
			detail: `condition false: lead.custom.floors eq "2", but the lead holds 2, a number that eq cannot compare with that value`,
		},
		{
			name:  "custom bool mismatch",
			cond:  `{"field":"lead.custom.solar","op":"lt","value":1}`,
			truth: TruthFalse, field: "lead.custom.solar", op: "lt", expected: 1.0, actual: true, mismatch: true,
			detail: `condition false: lead.custom.solar lt 1, but the lead holds true, a boolean that lt cannot compare with that value`,
		},
		{
			name:  "list actual",
			cond:  `{"field":"lead.tags","op":"in","value":["gold"]}`,
			truth: TruthFalse, field: "lead.tags", op: "in", expected: []any{"gold"}, actual: []string{"roofing", "vip"},
			detail: `condition false: lead.tags in ["gold"], actual ["roofing","vip"]`,
		},
		{
			name:  "time actual",
			cond:  `{"field":"lead.created_at","op":"lt","value":"2025-01-01T00:00:00Z"}`,
			truth: TruthFalse, field: "lead.created_at", op: "lt", expected: "2025-01-01T00:00:00Z", actual: "2026-01-10T09:00:00Z",
			detail: `condition false: lead.created_at lt "2025-01-01T00:00:00Z", actual "2026-01-10T09:00:00Z"`,
		},
		{
			name:  "bool actual",
			cond:  `{"field":"lead.email_opt_out","op":"eq","value":true}`,
			truth: TruthFalse, field: "lead.email_opt_out", op: "eq", expected: true, actual: false,
			detail: `condition false: lead.email_opt_out eq true, actual false`,
		},
		{
			name:  "name actual is joined",
			cond:  `{"field":"lead.name","op":"eq","value":"Bo"}`,
			truth: TruthFalse, field: "lead.name", op: "eq", expected: "Bo", actual: "Ana Silva",
			detail: `condition false: lead.name eq "Bo", actual "Ana Silva"`,
		},
		{
			name:  "empty any",
			cond:  `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"any":[]}]}`,
			truth: TruthFalse, path: "all[1]",
			detail: `condition false at all[1]: an empty any matches nothing`,
		},
		{
			name:  "true",
			cond:  `{"field":"lead.source","op":"eq","value":"web"}`,
			truth: TruthTrue, detail: "condition true",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := mustParse(t, tt.cond).Eval(ctx)
			if r.Truth != tt.truth {
				t.Fatalf("Truth = %v, want %v", r.Truth, tt.truth)
			}
			if tt.truth == TruthTrue {
				if r.Detail() != tt.detail {
					t.Errorf("Detail = %q, want %q", r.Detail(), tt.detail)
				}
				return
			}
			got := []any{r.Path(), r.Field(), r.Op(), r.Expected(), r.Actual(), r.Missing(), r.Mismatch(), r.Detail()}
			want := []any{tt.path, tt.field, tt.op, tt.expected, tt.actual, tt.missing, tt.mismatch, tt.detail}
			names := []string{"Path", "Field", "Op", "Expected", "Actual", "Missing", "Mismatch", "Detail"}
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("%s = %#v, want %#v", names[i], got[i], want[i])
				}
			}
		})
	}
}

func TestConditionMissingFields(t *testing.T) {
	t.Parallel()
	noQuote := fullCtx()
	noQuote.Quote = nil
	tests := []struct {
		name string
		cond string
		want []string
	}{
		{"true", `{"field":"lead.source","op":"eq","value":"web"}`, []string{}},
		{"false", `{"all":[{"field":"lead.timezone","op":"eq","value":"x"},{"field":"lead.source","op":"eq","value":"no"}]}`, []string{}},
		{"all unknown collects every missing leaf", `{"all":[{"field":"quote.amount","op":"gt","value":1},{"field":"lead.timezone","op":"eq","value":"x"},{"field":"quote.amount","op":"lt","value":9}]}`, []string{"quote.amount", "lead.timezone"}},
		{"any true hides its missing siblings", `{"all":[{"any":[{"field":"lead.timezone","op":"eq","value":"x"},{"field":"lead.source","op":"eq","value":"web"}]},{"field":"quote.number","op":"missing"},{"field":"quote.id","op":"eq","value":"q"}]}`, []string{"quote.id"}},
		{"nested unknowns", `{"any":[{"field":"lead.custom.x","op":"eq","value":1},{"all":[{"field":"quote.status","op":"eq","value":"sent"},{"field":"lead.source","op":"eq","value":"web"}]}]}`, []string{"lead.custom.x", "quote.status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := mustParse(t, tt.cond).MissingFields(noQuote)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("MissingFields = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func nested(depth int) string {
	return strings.Repeat(`{"all":[`, depth-1) + `{"all":[]}` + strings.Repeat(`]}`, depth-1)
}

func leaves(n int) string {
	l := make([]string, n)
	for i := range l {
		l[i] = `{"field":"lead.source","op":"eq","value":"web"}`
	}
	return `{"all":[` + strings.Join(l, ",") + `]}`
}

func TestParseConditionErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []string // "path: message fragment"
	}{
		{"empty", ``, []string{": required"}},
		{"blank", "  \n", []string{": required"}},
		{"null", `null`, []string{": required"}},
		{"not json", `{"all":`, []string{": not valid JSON"}},
		{"array root", `[]`, []string{": must be an object"}},
		{"string root", `"x"`, []string{": must be an object"}},
		{"empty object", `{}`, []string{": must have all, any, or field and op"}},
		{"all and any", `{"all":[],"any":[]}`, []string{": exactly one of"}},
		{"all and leaf", `{"all":[],"field":"lead.source","op":"exists"}`, []string{": exactly one of"}},
		{"all not array", `{"all":{}}`, []string{"all: must be an array"}},
		{"any null", `{"any":null}`, []string{"any: must be an array"}},
		{"child not object", `{"all":[1]}`, []string{"all[0]: must be an object"}},
		{"unknown key at root", `{"all":[],"zzz":1,"aaa":2}`, []string{"aaa: unknown key \"aaa\"", "zzz: unknown key \"zzz\""}},
		{"unknown key only", `{"bogus":1}`, []string{"bogus: unknown key"}},
		{"unknown key in leaf", `{"all":[{"field":"lead.source","op":"eq","value":"web","extra":1}]}`, []string{"all[0].extra: unknown key \"extra\""}},
		{"unknown field nested", `{"all":[{"any":[{"field":"lead.nope","op":"eq","value":1}]}]}`, []string{"all[0].any[0].field: unknown field \"lead.nope\""}},
		{"empty custom key", `{"field":"lead.custom.","op":"exists"}`, []string{"field: unknown field"}},
		{"dotted custom key", `{"field":"lead.custom.a.b","op":"exists"}`, []string{"field: unknown field"}},
		{"field required", `{"op":"eq","value":1}`, []string{"field: field is required"}},
		{"field not string", `{"field":1,"op":"exists"}`, []string{"field: field must be a string"}},
		{"op required", `{"field":"lead.source","value":"web"}`, []string{"op: op is required"}},
		{"op not string", `{"field":"lead.source","op":true,"value":"web"}`, []string{"op: op must be a string"}},
		{"unknown op", `{"all":[{"field":"lead.source","op":"eq","value":"web"},{"field":"lead.source","op":"like","value":"w%"}]}`, []string{"all[1].op: unknown operator \"like\""}},
		{"value required", `{"field":"lead.source","op":"eq"}`, []string{"value: value is required for eq"}},
		{"value forbidden for exists", `{"field":"lead.source","op":"exists","value":"x"}`, []string{"value: exists takes no value"}},
		{"value forbidden for missing", `{"field":"lead.source","op":"missing","value":null}`, []string{"value: missing takes no value"}},
		{"null value", `{"field":"lead.source","op":"eq","value":null}`, []string{"value: eq on lead.source needs a string"}},
		{"in needs array", `{"field":"lead.source","op":"in","value":"web"}`, []string{"value: in needs an array value"}},
		{"nin needs array", `{"field":"lead.tags","op":"nin","value":"vip"}`, []string{"value: nin needs an array value"}},
		{"in element type", `{"field":"lead.source","op":"in","value":["a",1,"b",false]}`, []string{"value[1]: in on lead.source needs a string", "value[3]: in on lead.source needs a string"}},
		{"in number element type", `{"field":"quote.amount","op":"in","value":[1,"2"]}`, []string{"value[1]: in on quote.amount needs a number"}},
		{"in time element", `{"field":"lead.created_at","op":"in","value":["yesterday"]}`, []string{"value[0]: in on lead.created_at needs an RFC 3339 timestamp"}},
		{"gt on string", `{"field":"lead.source","op":"gt","value":"a"}`, []string{"op: gt is not allowed on string field lead.source"}},
		{"lte on bool", `{"field":"lead.email_opt_out","op":"lte","value":true}`, []string{"op: lte is not allowed on boolean field lead.email_opt_out"}},
		{"gte on list", `{"field":"lead.tags","op":"gte","value":"a"}`, []string{"op: gte is not allowed on list field lead.tags"}},
		{"eq on list", `{"field":"lead.tags","op":"eq","value":"vip"}`, []string{"op: eq is not allowed on list field lead.tags; use contains, in or nin"}},
		{"neq on list", `{"field":"lead.tags","op":"neq","value":"vip"}`, []string{"op: neq is not allowed on list field"}},
		{"prefix on list", `{"field":"lead.tags","op":"prefix","value":"v"}`, []string{"op: prefix is not allowed on list field"}},
		{"contains on number", `{"field":"quote.amount","op":"contains","value":1}`, []string{"op: contains is not allowed on number field quote.amount"}},
		{"prefix on time", `{"field":"lead.created_at","op":"prefix","value":"2026"}`, []string{"op: prefix is not allowed on timestamp field"}},
		{"contains on bool", `{"field":"lead.whatsapp_opt_in","op":"contains","value":true}`, []string{"op: contains is not allowed on boolean field"}},
		{"list contains number", `{"field":"lead.tags","op":"contains","value":1}`, []string{"value: contains on lead.tags needs a string"}},
		{"string eq number", `{"field":"lead.source","op":"eq","value":1}`, []string{"value: eq on lead.source needs a string"}},
		{"number eq string", `{"field":"quote.amount","op":"eq","value":"1000"}`, []string{"value: eq on quote.amount needs a number"}},
		{"number gt bool", `{"field":"quote.amount","op":"gt","value":true}`, []string{"value: gt on quote.amount needs a number"}},
		{"number out of range", `{"field":"quote.amount","op":"gt","value":1e400}`, []string{"value: gt needs a finite number"}},
		{"bool eq string", `{"field":"lead.email_opt_out","op":"eq","value":"true"}`, []string{"value: eq on lead.email_opt_out needs a boolean"}},
		{"time not rfc3339", `{"field":"quote.valid_until","op":"lt","value":"2026-07-01"}`, []string{"value: lt on quote.valid_until needs an RFC 3339 timestamp"}},
		{"time bad day", `{"field":"quote.valid_until","op":"lt","value":"2026-02-30T00:00:00Z"}`, []string{"value: lt on quote.valid_until needs an RFC 3339"}},
		{"time number", `{"field":"quote.valid_until","op":"gt","value":5}`, []string{"value: gt on quote.valid_until needs an RFC 3339"}},
		{"custom gt word", `{"field":"lead.custom.size","op":"gt","value":"big"}`, []string{"value: gt on a custom field needs a number or an RFC 3339 timestamp"}},
		{"custom eq object", `{"field":"lead.custom.size","op":"eq","value":{}}`, []string{"value: eq on a custom field needs a string, number or boolean"}},
		{"custom eq array", `{"field":"lead.custom.size","op":"eq","value":[1]}`, []string{"value: eq on a custom field needs a string, number or boolean"}},
		{"custom contains null", `{"field":"lead.custom.size","op":"contains","value":null}`, []string{"value: contains on a custom field needs"}},
		{"custom in nested array", `{"field":"lead.custom.size","op":"in","value":[1,[2]]}`, []string{"value[1]: in on lead.custom.size needs a string, number or boolean"}},
		{"custom prefix number", `{"field":"lead.custom.size","op":"prefix","value":1}`, []string{"value: prefix on lead.custom.size needs a string"}},
		{"every problem reported", `{"all":[{"field":"lead.x","op":"eq","value":1},{"field":"lead.source","op":"zz","value":1},{"any":[{"field":"quote.amount","op":"gt","value":"a"}]}]}`,
			[]string{"all[0].field: unknown field", "all[1].op: unknown operator", "all[2].any[0].value: gt on quote.amount needs a number"}},
		{"too deep", nested(MaxDepth + 1), []string{strings.TrimSuffix(strings.Repeat("all[0].", MaxDepth), ".") + ": conditions may nest at most 32 levels deep"}},
		{"too many nodes", leaves(MaxNodes), []string{": a condition may have at most 1000 nodes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(json.RawMessage(tt.src))
			if err == nil {
				t.Fatalf("ParseCondition accepted %s: %s", tt.src, mustMarshal(t, c))
			}
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.EINVALID {
				t.Fatalf("error %v is not an EINVALID *Error", err)
			}
			if len(e.Fields) != len(tt.want) {
				t.Fatalf("got %d field errors %v, want %d %v", len(e.Fields), e.Fields, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				path, frag, _ := strings.Cut(w, ": ")
				if e.Fields[i].Field != path || !strings.Contains(e.Fields[i].Message, frag) {
					t.Errorf("field error %d = %q: %q, want %q: …%q…", i, e.Fields[i].Field, e.Fields[i].Message, path, frag)
				}
			}
		})
	}
}

func TestParseConditionLimitsAccepted(t *testing.T) {
	t.Parallel()
	for _, src := range []string{nested(MaxDepth), leaves(MaxNodes - 1)} {
		c := mustParse(t, src)
		if c.Eval(fullCtx()).Truth != TruthTrue {
			t.Errorf("condition at the limit did not evaluate true")
		}
	}
}

func mustMarshal(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

func TestConditionMarshalCanonical(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"all":[]}`, `{"all":[]}`},
		{` { "any" : [ ] } `, `{"any":[]}`},
		{`{"value":1.50,"op":"gte","field":"quote.amount"}`, `{"field":"quote.amount","op":"gte","value":1.5}`},
		{`{"field":"lead.tags","op":"exists"}`, `{"field":"lead.tags","op":"exists"}`},
		{`{"all":[{"field":"lead.custom.x","op":"in","value":[1,"a",true]},{"any":[{"field":"lead.created_at","op":"lt","value":"2026-01-01T00:00:00+01:00"}]}]}`,
			`{"all":[{"field":"lead.custom.x","op":"in","value":[1,"a",true]},{"any":[{"field":"lead.created_at","op":"lt","value":"2026-01-01T00:00:00+01:00"}]}]}`},
		{`{"field":"lead.custom.x","op":"eq","value":false}`, `{"field":"lead.custom.x","op":"eq","value":false}`},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.in)
		got := mustMarshal(t, c)
		if got != tt.want {
			t.Errorf("marshal %s = %s, want %s", tt.in, got, tt.want)
		}
		if again := mustMarshal(t, mustParse(t, got)); again != got {
			t.Errorf("reparse of %s marshals as %s", got, again)
		}
	}
}

func TestConditionFieldsAndAlwaysTrue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src    string
		fields []string
		always bool
	}{
		{`{"all":[]}`, []string{}, true},
		{`{"any":[]}`, []string{}, false},
		{`{"all":[{"all":[]},{"any":[{"any":[]},{"all":[]}]}]}`, []string{}, true},
		{`{"any":[{"field":"lead.source","op":"eq","value":"web"},{"all":[]}]}`, []string{"lead.source"}, true},
		{`{"all":[{"field":"lead.source","op":"eq","value":"web"},{"field":"quote.amount","op":"gt","value":1},{"field":"lead.source","op":"neq","value":"x"}]}`, []string{"lead.source", "quote.amount"}, false},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.src)
		if got := c.Fields(); !reflect.DeepEqual(got, tt.fields) {
			t.Errorf("Fields(%s) = %#v, want %#v", tt.src, got, tt.fields)
		}
		if got := c.AlwaysTrue(); got != tt.always {
			t.Errorf("AlwaysTrue(%s) = %v, want %v", tt.src, got, tt.always)
		}
	}
}

// TestCatalogueHasAccessors keeps fields.go and the condition compiler in
// step: a field added to the catalogue must be readable by conditions.
func TestCatalogueHasAccessors(t *testing.T) {
	t.Parallel()
	for _, f := range engine.Fields {
		if _, ok := fieldIDs[f.Path]; !ok {
			t.Errorf("catalogue field %s has no condition accessor", f.Path)
		}
		src := `{"field":"` + f.Path + `","op":"exists"}`
		if _, err := Parse(json.RawMessage(src)); err != nil {
			t.Errorf("exists on %s: %v", f.Path, err)
		}
	}
	if len(fieldIDs) != len(engine.Fields) {
		t.Errorf("%d accessors for %d catalogue fields", len(fieldIDs), len(engine.Fields))
	}
}

// TestConditionEvalDoesNotAllocate is the allocation guarantee the
// resolver's benchmark depends on, checked over every kind of field.
func TestConditionEvalDoesNotAllocate(t *testing.T) {
	c := mustParse(t, `{"all":[
		{"field":"lead.source","op":"eq","value":"web"},
		{"field":"lead.name","op":"contains","value":"na Si"},
		{"field":"lead.country","op":"in","value":["a","b","c","d","e","f","g","h","i","PT"]},
		{"field":"quote.amount","op":"gte","value":1000},
		{"field":"lead.tags","op":"in","value":["vip"]},
		{"field":"lead.whatsapp_opt_in","op":"eq","value":true},
		{"field":"lead.created_at","op":"lt","value":"2027-01-01T00:00:00Z"},
		{"field":"lead.custom.roof_type","op":"prefix","value":"ti"},
		{"field":"lead.custom.inspected_at","op":"gt","value":"2026-01-01T00:00:00Z"},
		{"field":"lead.custom.areas","op":"contains","value":"north"},
		{"field":"lead.custom.floors","op":"gt","value":1},
		{"any":[{"field":"lead.timezone","op":"eq","value":"x"},{"field":"lead.custom.roof_type","op":"gt","value":3}]}
	]}`)
	ctx := fullCtx()
	if r := c.Eval(ctx); r.Truth != TruthUnknown || r.Field() != "lead.timezone" {
		t.Fatalf("Eval = %v at %s, want unknown at lead.timezone", r.Truth, r.Field())
	}
	if n := testing.AllocsPerRun(100, func() { c.Eval(ctx) }); n != 0 {
		t.Errorf("Eval allocates %v times per run, want 0", n)
	}
}

func TestParseInstant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"2026-01-10T09:00:00Z", true},
		{"2026-01-10t09:00:00z", true},
		{"2026-01-10T09:00:00.123456789Z", true},
		{"2026-01-10T09:00:00.1234567891Z", true},
		{"2026-01-10T09:00:00+05:30", true},
		{"2024-02-29T00:00:00Z", true},
		{"2026-01-10T09:00:00", false},
		{"2026-01-10 09:00:00Z", false},
		{"2026-01-10T09:00:00.Z", false},
		{"2026-13-10T09:00:00Z", false},
		{"2025-02-29T00:00:00Z", false},
		{"2026-01-10T24:00:00Z", false},
		{"2026-01-10T09:00:60Z", false},
		{"2026-01-10T09:00:00+24:00", false},
		{"2026-01-10T09:00:00+0100", false},
		{"2026-01-1xT09:00:00Z", false},
	}
	for _, tt := range tests {
		got, ok := parseInstant(tt.in)
		if ok != tt.ok {
			t.Errorf("parseInstant(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		want, err := time.Parse(time.RFC3339Nano, strings.ToUpper(tt.in))
		if err != nil {
			t.Fatalf("time.Parse(%q): %v", tt.in, err)
		}
		if !got.Equal(want) {
			t.Errorf("parseInstant(%q) = %v, want %v", tt.in, got, want)
		}
	}
}
