package jobs

import (
	"context"
	"encoding/json"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// tracing is River's middleware for OpenTelemetry: otelriver's spans
// around each insert and each job's work, with the inserting span's W3C
// trace context written into the job's metadata.
//
// otelriver only links the work span to that context, which starts a new
// trace per job. continueTrace, outermost, makes the inserting span the
// work span's parent instead, so that one trace runs from the quote
// action's request through its step job to a retried delivery job.
func tracing(tp trace.TracerProvider) []rivertype.Middleware {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return []rivertype.Middleware{
		river.WorkerMiddlewareFunc(continueTrace),
		otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
			TracerProvider:              tp,
			EnableTracePropagation:      true,
			EnableWorkSpanJobKindSuffix: true,
		}),
	}
}

// askerKey is the job metadata key under which insertTx keeps the trace
// context of the code that asked for the job. Jobs are inserted together
// just before their transaction commits, one insert for a whole group
// commit, so otelriver's own key holds the trace of that insert, which is
// only the first asker's.
const askerKey = "quoteflow_trace"

// askerTrace is the job metadata carrying ctx's trace context; nil when
// ctx has no span.
func askerTrace(ctx context.Context) []byte {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	if len(carrier) == 0 {
		return nil
	}
	b, err := json.Marshal(map[string]propagation.MapCarrier{askerKey: carrier})
	if err != nil {
		return nil
	}
	return b
}

// continueTrace puts the trace context from the job's metadata in ctx as
// the remote parent of the work: the asker's (askerKey), else the
// inserting span's.
func continueTrace(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	if len(job.Metadata) == 0 {
		return doInner(ctx)
	}
	var meta map[string]any
	if err := json.Unmarshal(job.Metadata, &meta); err != nil {
		return doInner(ctx)
	}
	from := meta
	if asker, ok := meta[askerKey].(map[string]any); ok {
		from = asker
	}
	carrier := propagation.MapCarrier{}
	for _, k := range []string{"traceparent", "tracestate"} {
		if s, ok := from[k].(string); ok {
			carrier[k] = s
		}
	}
	if len(carrier) == 0 {
		return doInner(ctx)
	}
	return doInner(propagation.TraceContext{}.Extract(ctx, carrier))
}
