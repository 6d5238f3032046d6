package jobs

import (
	"context"
	"log/slog"
	"net/http"

	"riverqueue.com/riverui"
)

// UI returns River's own web UI and its API, served under prefix (e.g.
// "/ops/river"), over the queue's client. It answers nothing about who may
// see it: the caller puts it behind the operator's credentials. The
// handler's background services run until ctx ends.
func (q *Queue) UI(ctx context.Context, prefix string, log *slog.Logger) (http.Handler, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts := &riverui.HandlerOpts{Logger: log, Prefix: prefix,
		// Job args hold tenant and message ids only, but hiding them by
		// default keeps the first view a summary.
		JobListHideArgsByDefault: true}
	if q.pg != nil {
		opts.Endpoints = riverui.NewEndpoints(q.pg, nil)
	} else {
		opts.Endpoints = riverui.NewEndpoints(q.sqlite, nil)
	}
	h, err := riverui.NewHandler(opts)
	if err != nil {
		return nil, err
	}
	if err := h.Start(ctx); err != nil {
		return nil, err
	}
	return h, nil
}
