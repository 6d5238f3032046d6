package condition

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/quoteflow/quoteflow/internal/engine"
)

func TestEvalWhen(t *testing.T) {
	ctx := &engine.Context{Lead: &engine.Lead{Source: "web"}, Quote: &engine.Quote{AmountMinor: 150000, Currency: "EUR"}}
	noQuote := &engine.Context{Lead: &engine.Lead{Source: "web"}}
	tests := []struct {
		name     string
		when     string
		ctx      *engine.Context
		want     Truth
		missing  []string
		errField string
	}{
		{"absent", "", ctx, TruthTrue, nil, ""},
		{"null", "null", ctx, TruthTrue, nil, ""},
		{"true", `{"all":[{"field":"quote.amount","op":"gte","value":1000}]}`, ctx, TruthTrue, nil, ""},
		{"false", `{"all":[{"field":"quote.amount","op":"gte","value":10000}]}`, ctx, TruthFalse, nil, ""},
		{"unknown", `{"all":[{"field":"quote.amount","op":"gte","value":1000}]}`, noQuote, TruthUnknown, []string{"quote.amount"}, ""},
		{"invalid", `{"all":[{"field":"quote.amount","op":"between","value":1}]}`, ctx, TruthFalse, nil, "when.all[0].op"},
	}
	for _, tc := range tests {
		step := &engine.Step{Type: engine.StepSendEmail, When: json.RawMessage(tc.when)}
		got, missing, err := EvalWhen(step, tc.ctx)
		if tc.errField != "" {
			e, ok := err.(*engine.Error)
			if !ok || len(e.Fields) == 0 || e.Fields[0].Field != tc.errField {
				t.Errorf("%s: err = %v, want a field error at %s", tc.name, err, tc.errField)
			}
			continue
		}
		if err != nil || got != tc.want || !reflect.DeepEqual(missing, tc.missing) {
			t.Errorf("%s: EvalWhen = %v, %v, %v; want %v, %v", tc.name, got, missing, err, tc.want, tc.missing)
		}
	}
}
