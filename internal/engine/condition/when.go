package condition

import (
	"bytes"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// EvalWhen evaluates a step's when condition against ctx: TruthTrue for a
// step without one (absent or JSON null). missing lists the fields whose
// absence made it unknown, and is empty otherwise. A condition that does
// not parse (never the case for a saved step) is an EINVALID error whose
// fields are under "when".
func EvalWhen(step *engine.Step, ctx *engine.Context) (truth Truth, missing []string, err error) {
	if step == nil {
		return TruthTrue, nil, nil
	}
	raw := bytes.TrimSpace(step.When)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return TruthTrue, nil, nil
	}
	c, err := Parse(raw)
	if err != nil {
		return TruthFalse, nil, engine.PrefixFields(err, "when")
	}
	r := c.Eval(ctx)
	if r.Truth == TruthUnknown {
		missing = c.MissingFields(ctx)
	}
	return r.Truth, missing, nil
}
