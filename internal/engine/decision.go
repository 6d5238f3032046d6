package engine

// Outcome is what a decision says to do.
type Outcome string

// Outcomes.
const (
	OutcomeWorkflow   Outcome = "workflow"   // run a workflow
	OutcomeLegacy     Outcome = "legacy"     // send the legacy settings' message
	OutcomeSuppressed Outcome = "suppressed" // an override says say nothing
	OutcomeNone       Outcome = "none"       // nothing applies; send nothing
)

// Source is which part of the resolution produced a decision.
type Source string

// Sources.
const (
	SourceOverride Source = "override"
	SourceRule     Source = "rule"
	SourceFallback Source = "fallback"
	SourceMode     Source = "mode"
)

// Decision is the resolver's answer for one lead and trigger, with the trace
// that explains it. It is stored on every trigger event, so its JSON form is
// part of the API contract.
//
// Resolve leaves a trace of more than 16 entries lazy (see Trace): JSON
// always carries every entry, but Go code must call Render before it reads
// Trace. Copies of a decision share its trace until one of them is
// rendered.
type Decision struct {
	Outcome         Outcome  `json:"outcome"`
	Source          Source   `json:"source"`
	Reason          string   `json:"reason"`
	WorkflowID      string   `json:"workflow_id,omitempty"`
	WorkflowVersion int64    `json:"workflow_version,omitempty"`
	RuleID          string   `json:"rule_id,omitempty"`
	OverrideID      string   `json:"override_id,omitempty"`
	MissingFields   []string `json:"missing_fields"`
	Trace           Trace    `json:"trace"`
	// Shadow is the engine's own decision in shadow mode, computed and
	// stored beside the legacy decision that is acted on.
	Shadow *Decision `json:"shadow,omitempty"`
}

// TraceEntry explains what the resolver did with one override, rule or
// policy step. Kind is "override", "rule", "fallback" or "mode"; Result is
// "matched", "skipped", "failed" or "warning"; Detail is a sentence for
// people, and the other fields say the same for programs.
//
// The resolver writes out short traces only: of a long one it keeps what it
// did in the decision, and the entries are written when the decision is
// marshalled (or when Decision.Render is called), so that resolving
// against many rules allocates nothing per rule. In either case the Detail
// of a failed condition is written then. Read a decision's Trace in Go
// only after Render; JSON always carries it all.
type TraceEntry struct {
	Kind   string `json:"kind"`
	ID     string `json:"id,omitempty"`
	Result string `json:"result"`
	Detail string `json:"detail"`
	// Reason is a stable code: disabled, wrong_trigger, workflow_disabled,
	// workflow_missing, expired, condition_false, condition_unknown, ...
	Reason string `json:"reason,omitempty"`
	// Path is the JSON path, inside the rule's condition, of the node that
	// decided a failure; Field, Op, Expected and Actual describe it.
	Path     string `json:"path,omitempty"`
	Field    string `json:"field,omitempty"`
	Op       string `json:"op,omitempty"`
	Expected any    `json:"expected,omitempty"`
	Actual   any    `json:"actual,omitempty"`

	// why says how a failed condition's leaf got its value, for the
	// Detail written later.
	why why
}
