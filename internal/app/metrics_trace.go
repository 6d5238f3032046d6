package app

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/telemetry"
)

// begin starts the span of one use case and puts ids in the context for
// the span and every log line under it; ids with an empty value are left
// out. end records the use case's error on the span and ends it. A
// domain error (bad input, not found, conflict) is the caller's, not a
// fault of ours, so only other errors mark the span failed.
func (a *App) begin(ctx context.Context, name string, ids ...slog.Attr) (context.Context, func(error)) {
	ctx = telemetry.With(ctx, ids...)
	attrs := make([]attribute.KeyValue, 0, len(ids))
	for _, id := range ids {
		if v := id.Value.String(); v != "" {
			attrs = append(attrs, attribute.String("quoteflow."+id.Key, v))
		}
	}
	ctx, span := a.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			if engine.ErrorCode(err) == engine.EINTERNAL {
				span.SetStatus(codes.Error, "failed")
			}
		}
		span.End()
	}
}

// annotate adds ids learnt during a use case to its span and log context.
func annotate(ctx context.Context, ids ...slog.Attr) context.Context {
	span := trace.SpanFromContext(ctx)
	for _, id := range ids {
		if v := id.Value.String(); v != "" {
			span.SetAttributes(attribute.String("quoteflow."+id.Key, v))
		}
	}
	return telemetry.With(ctx, ids...)
}
