package store

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
)

// Kinds of reply statistics, as ReplyCounts and stats_reply_rollups name
// them.
const (
	// ReplyKindReply is a customer's message (Meta's system notices not
	// counted), by when it was received.
	ReplyKindReply = "reply"
	// ReplyKindReplied is an outbox message's first reply, by when the
	// message was written: the reply rate's numerator.
	ReplyKindReplied = "replied"
	// ReplyKindOptOut is a WhatsApp opt-out and ReplyKindUnsubscribe an
	// email one, by when they were made.
	ReplyKindOptOut      = "opt_out"
	ReplyKindUnsubscribe = "unsubscribe"
)

// ReplyCount is the count of one kind in one slot for the trigger and
// workflow of the message answered (empty when none).
type ReplyCount struct {
	Slot                time.Time
	Kind                string
	Trigger, WorkflowID string
	Count               int64
}

// ReplyCounts counts the tenant's replies, answered messages, opt-outs and
// unsubscribes in the window, by slot, kind, trigger and workflow, from the
// tables and the rollups of purged periods (PurgeInbound).
func (tx *Tx) ReplyCounts(ctx context.Context, q StatsQuery) ([]ReplyCount, error) {
	var out []ReplyCount
	for _, k := range []struct {
		kind, table, timeCol, cond string
		args                       []any
	}{
		{ReplyKindReply, "inbound_messages", "received_at", `type <> ?`, []any{engine.InboundSystem}},
		{ReplyKindReplied, "inbound_messages", "reply_to_at", `first_reply = ?`, []any{true}},
		{ReplyKindOptOut, "consent_changes", "created_at", `opted_in = ? AND channel = ?`, []any{false, engine.ChannelWhatsApp}},
		{ReplyKindUnsubscribe, "consent_changes", "created_at", `opted_in = ? AND channel = ?`, []any{false, engine.ChannelEmail}},
	} {
		slot, err := q.slotExpr(k.timeCol)
		if err != nil {
			return nil, err
		}
		rows, err := collect(ctx, tx, func(s scanner) (ReplyCount, error) {
			c := ReplyCount{Kind: k.kind}
			var at int64
			err := s.Scan(&at, &c.Trigger, &c.WorkflowID, &c.Count)
			c.Slot = fromMicros(at)
			return c, err
		}, `SELECT `+slot+`, trigger, workflow_id, COUNT(*) FROM `+k.table+`
			WHERE tenant_id = ? AND `+k.timeCol+` >= ? AND `+k.timeCol+` < ? AND `+k.cond+`
			GROUP BY `+slot+`, trigger, workflow_id`, append([]any{q.TenantID, micros(q.From), micros(q.To)}, k.args...)...)
		if err != nil {
			return nil, translate(err, "reply statistics", onViolation{})
		}
		out = append(out, rows...)
	}
	slot, err := q.slotExpr("r.slot")
	if err != nil {
		return nil, err
	}
	rolled, err := collect(ctx, tx, func(s scanner) (ReplyCount, error) {
		var c ReplyCount
		var at int64
		err := s.Scan(&at, &c.Kind, &c.Trigger, &c.WorkflowID, &c.Count)
		c.Slot = fromMicros(at)
		return c, err
	}, `SELECT `+slot+`, r.kind, r.trigger, r.workflow_id, CAST(SUM(r.n) AS BIGINT) FROM stats_reply_rollups r
		WHERE r.tenant_id = ? AND r.slot >= ? AND r.slot < ? GROUP BY `+slot+`, r.kind, r.trigger, r.workflow_id`,
		q.TenantID, micros(q.From), micros(q.To))
	if err != nil {
		return nil, translate(err, "reply statistics rollups", onViolation{})
	}
	return append(out, rolled...), nil
}
