// Package telemetry carries what every log line and span of one piece of
// work shares — the request, tenant, event, run and message ids — in the
// context, and adds it to log records through a slog.Handler. It imports
// nothing of the project, so that api, app and jobs can all use it.
package telemetry

import (
	"context"
	"log/slog"
)

type attrsKey struct{}

// With returns ctx carrying attrs besides those it carries already; a key
// given again replaces the earlier value, so that a delivery's message id
// does not repeat its step's.
func With(ctx context.Context, attrs ...slog.Attr) context.Context {
	old := Attrs(ctx)
	out := make([]slog.Attr, 0, len(old)+len(attrs))
	for _, a := range old {
		if !has(attrs, a.Key) {
			out = append(out, a)
		}
	}
	for _, a := range attrs {
		if a.Value.String() != "" {
			out = append(out, a)
		}
	}
	return context.WithValue(ctx, attrsKey{}, out)
}

// Attrs returns the attributes ctx carries; the caller must not change
// the slice.
func Attrs(ctx context.Context) []slog.Attr {
	as, _ := ctx.Value(attrsKey{}).([]slog.Attr)
	return as
}

// Value returns the value of the attribute key ctx carries, or "".
func Value(ctx context.Context, key string) string {
	for _, a := range Attrs(ctx) {
		if a.Key == key {
			return a.Value.String()
		}
	}
	return ""
}

func has(as []slog.Attr, key string) bool {
	for _, a := range as {
		if a.Key == key {
			return true
		}
	}
	return false
}

// Handler adds the context's attributes (With) to every record it
// handles, so that a line logged deep in a use case names the request,
// tenant and message it concerns without each call site repeating them.
// An attribute the record sets itself wins over the context's.
type Handler struct {
	slog.Handler
}

// NewHandler wraps h.
func NewHandler(h slog.Handler) *Handler { return &Handler{Handler: h} }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	carried := Attrs(ctx)
	if len(carried) == 0 {
		return h.Handler.Handle(ctx, r)
	}
	own := map[string]bool{}
	r.Attrs(func(a slog.Attr) bool {
		own[a.Key] = true
		return true
	})
	r = r.Clone()
	for _, a := range carried {
		if !own[a.Key] {
			r.AddAttrs(a)
		}
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{Handler: h.Handler.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{Handler: h.Handler.WithGroup(name)}
}
