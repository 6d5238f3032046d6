package api

import (
	"context"
	"time"

	"github.com/quoteflow/quoteflow/internal/app"
)

type outboxStatsInput struct {
	From    time.Time `query:"from" doc:"Start of the window, inclusive (RFC 3339); default: 7 days before to"`
	To      time.Time `query:"to" doc:"End of the window, exclusive (RFC 3339); default: now. At most 400 days after from"`
	Bucket  string    `query:"bucket" enum:"5m,1h,1d" doc:"Bucket size, aligned to the tenant's timezone (default 1h); at most 10000 buckets"`
	GroupBy []string  `query:"group_by,explode" doc:"Dimensions to group messages and attempts by: trigger, channel, status, reason, error_class, workflow; comma-separated, repeated, or both"`
}

// StatsBucketOut is one time bucket, [start, end), in the tenant's timezone.
type StatsBucketOut struct {
	Start time.Time `json:"start" doc:"Inclusive; the window's from for the first bucket"`
	End   time.Time `json:"end" doc:"Exclusive; the window's to for the last bucket"`
}

// StatsLatencyOut is a latency's exact nearest-rank percentiles.
type StatsLatencyOut struct {
	Count      int64   `json:"count" doc:"Messages the percentiles are over"`
	P50Seconds float64 `json:"p50_seconds" doc:"Nearest rank: the smallest duration that at least half of them do not exceed; 0 when count is 0"`
	P95Seconds float64 `json:"p95_seconds" doc:"Nearest rank: the smallest duration that at least 95 % of them do not exceed; 0 when count is 0"`
}

// StatsMessageSeriesOut is one group of messages.
type StatsMessageSeriesOut struct {
	Key             map[string]string `json:"key" doc:"The group's value of each group_by dimension (workflow is empty for legacy messages)"`
	Total           int64             `json:"total"`
	Counts          []int64           `json:"counts" doc:"Messages created in each bucket, in the order of buckets"`
	EventToSent     StatsLatencyOut   `json:"event_to_sent" doc:"The group's sent messages: sent_at less the trigger event's created_at"`
	SentToDelivered StatsLatencyOut   `json:"sent_to_delivered" doc:"The group's delivered messages: delivered_at less sent_at"`
}

// StatsAttemptSeriesOut is one group of delivery attempts.
type StatsAttemptSeriesOut struct {
	Key           map[string]string `json:"key" doc:"The group's values; error_class is the attempt's own, the rest its message's"`
	Attempts      int64             `json:"attempts"`
	Retries       int64             `json:"retries" doc:"Attempts after a message's first"`
	AttemptCounts []int64           `json:"attempt_counts" doc:"Attempts started in each bucket"`
	RetryCounts   []int64           `json:"retry_counts" doc:"Retries started in each bucket"`
}

// StatsProviderOut is one provider's attempts and retries.
type StatsProviderOut struct {
	Provider      string  `json:"provider"`
	Attempts      int64   `json:"attempts"`
	Retries       int64   `json:"retries"`
	AttemptCounts []int64 `json:"attempt_counts"`
	RetryCounts   []int64 `json:"retry_counts"`
}

// StatsDecisionOut counts the trigger events of one trigger, outcome and
// reason.
type StatsDecisionOut struct {
	Trigger string  `json:"trigger"`
	Outcome string  `json:"outcome" enum:"workflow,legacy,suppressed,none"`
	Reason  string  `json:"reason"`
	Total   int64   `json:"total"`
	Counts  []int64 `json:"counts"`
}

// StatsMissingFieldOut counts the decisions of one trigger that lacked one
// lead-context field a rule read.
type StatsMissingFieldOut struct {
	Trigger string  `json:"trigger"`
	Field   string  `json:"field" doc:"As conditions name it: lead.country, lead.custom.roof_type, quote.amount, ..."`
	Total   int64   `json:"total"`
	Counts  []int64 `json:"counts"`
}

// StatsTotalsOut sums the window.
type StatsTotalsOut struct {
	Messages        int64           `json:"messages"`
	Attempts        int64           `json:"attempts"`
	Retries         int64           `json:"retries"`
	Decisions       int64           `json:"decisions"`
	EventToSent     StatsLatencyOut `json:"event_to_sent"`
	SentToDelivered StatsLatencyOut `json:"sent_to_delivered"`
	// The customers' side (issue 13): see StatsReplyOut.
	Sent         int64   `json:"sent" doc:"Messages written in the window that their provider accepted"`
	Replied      int64   `json:"replied" doc:"Of those, the messages a customer's reply answers"`
	ReplyRate    float64 `json:"reply_rate" doc:"replied / sent; 0 when nothing was sent"`
	Replies      int64   `json:"replies" doc:"Customers' WhatsApp messages received in the window (Meta's system notices not counted)"`
	OptOuts      int64   `json:"opt_outs" doc:"WhatsApp opt-outs made in the window"`
	Unsubscribes int64   `json:"unsubscribes" doc:"Email unsubscribes made in the window"`
}

// StatsReplyOut is what customers answered to one trigger and workflow's
// messages: replies are attributed to the message they quote, else to the
// lead's latest message sent within the 7 days before.
type StatsReplyOut struct {
	Trigger           string  `json:"trigger" doc:"Empty for replies that answer no message"`
	Workflow          string  `json:"workflow" doc:"Empty for legacy messages and replies that answer no message"`
	Sent              int64   `json:"sent" doc:"Messages written in the window that their provider accepted"`
	Replied           int64   `json:"replied" doc:"Of those, the messages a reply answers"`
	ReplyRate         float64 `json:"reply_rate" doc:"replied / sent; 0 when nothing was sent"`
	Replies           int64   `json:"replies" doc:"Replies received in the window that answer this trigger and workflow"`
	ReplyCounts       []int64 `json:"reply_counts" doc:"Replies received in each bucket"`
	OptOuts           int64   `json:"opt_outs" doc:"WhatsApp opt-outs made in the window by replies to this trigger and workflow"`
	OptOutCounts      []int64 `json:"opt_out_counts"`
	Unsubscribes      int64   `json:"unsubscribes" doc:"Email unsubscribes from this trigger and workflow's emails"`
	UnsubscribeCounts []int64 `json:"unsubscribe_counts"`
}

// OutboxStatsOut is GET /v1/stats/outbox.
type OutboxStatsOut struct {
	From              time.Time               `json:"from"`
	To                time.Time               `json:"to"`
	Bucket            string                  `json:"bucket" enum:"5m,1h,1d"`
	Timezone          string                  `json:"timezone" doc:"The tenant's timezone, which buckets are aligned to"`
	GroupBy           []string                `json:"group_by"`
	Buckets           []StatsBucketOut        `json:"buckets"`
	Totals            StatsTotalsOut          `json:"totals"`
	Messages          []StatsMessageSeriesOut `json:"messages" doc:"By group_by; placed by created_at; status is the current one"`
	Attempts          []StatsAttemptSeriesOut `json:"attempts" doc:"By group_by; placed by started_at"`
	RetriesByProvider []StatsProviderOut      `json:"retries_by_provider" doc:"Attempts and retries per provider"`
	Decisions         []StatsDecisionOut      `json:"decisions" doc:"Trigger events by trigger, outcome and reason: none and suppressed included, duplicates as none/duplicate_event"`
	MissingFields     []StatsMissingFieldOut  `json:"missing_fields" doc:"Decisions (not duplicates) whose lead context lacked a field a rule read, per trigger and field"`
	Replies           []StatsReplyOut         `json:"replies" doc:"Customers' replies, opt-outs and unsubscribes by the trigger and workflow of the message they answer, with the reply rate; group_by does not apply"`
}

func latencyOut(l app.StatsLatency) StatsLatencyOut {
	return StatsLatencyOut{Count: l.Count, P50Seconds: l.P50.Seconds(), P95Seconds: l.P95.Seconds()}
}

func groupKey(dims, keys []string) map[string]string {
	m := make(map[string]string, len(dims))
	for i, d := range dims {
		m[d] = keys[i]
	}
	return m
}

func (s *Server) outboxStats(ctx context.Context, in *outboxStatsInput) (*body[OutboxStatsOut], error) {
	st, err := s.app.OutboxStats(ctx, principal(ctx).TenantID, app.StatsParams{From: in.From, To: in.To, Bucket: in.Bucket, GroupBy: in.GroupBy})
	if err != nil {
		return nil, toProblem(ctx, s.log, err)
	}
	out := OutboxStatsOut{From: st.From.UTC(), To: st.To.UTC(), Bucket: st.Bucket, Timezone: st.Timezone, GroupBy: st.GroupBy,
		Buckets: make([]StatsBucketOut, len(st.Buckets)), Messages: []StatsMessageSeriesOut{}, Attempts: []StatsAttemptSeriesOut{},
		RetriesByProvider: []StatsProviderOut{}, Decisions: []StatsDecisionOut{}, MissingFields: []StatsMissingFieldOut{},
		Replies: []StatsReplyOut{},
		Totals: StatsTotalsOut{Messages: st.TotalMessages, Attempts: st.TotalAttempts, Retries: st.TotalRetries,
			Decisions: st.TotalDecisions, EventToSent: latencyOut(st.EventToSent), SentToDelivered: latencyOut(st.SentToDelivered),
			Sent: st.TotalSent, Replied: st.TotalReplied, Replies: st.TotalInbound, OptOuts: st.TotalOptOuts,
			Unsubscribes: st.TotalUnsubscribes}}
	out.Totals.ReplyRate = st.ReplyRate()
	for _, r := range st.Replies {
		out.Replies = append(out.Replies, StatsReplyOut{Trigger: r.Trigger, Workflow: r.WorkflowID, Sent: r.Sent, Replied: r.Replied,
			ReplyRate: r.ReplyRate, Replies: r.Inbound.Total, ReplyCounts: r.Inbound.Counts, OptOuts: r.OptOuts.Total,
			OptOutCounts: r.OptOuts.Counts, Unsubscribes: r.Unsubscribes.Total, UnsubscribeCounts: r.Unsubscribes.Counts})
	}
	if out.GroupBy == nil {
		out.GroupBy = []string{}
	}
	for i, b := range st.Buckets {
		out.Buckets[i] = StatsBucketOut{Start: b.Start, End: b.End}
	}
	for _, m := range st.Messages {
		out.Messages = append(out.Messages, StatsMessageSeriesOut{Key: groupKey(st.GroupBy, m.Keys), Total: m.Total, Counts: m.Counts,
			EventToSent: latencyOut(m.EventToSent), SentToDelivered: latencyOut(m.SentToDelivered)})
	}
	for _, a := range st.Attempts {
		out.Attempts = append(out.Attempts, StatsAttemptSeriesOut{Key: groupKey(st.GroupBy, a.Keys), Attempts: a.Attempts.Total,
			Retries: a.Retries.Total, AttemptCounts: a.Attempts.Counts, RetryCounts: a.Retries.Counts})
	}
	for _, a := range st.AttemptsByProvider {
		out.RetriesByProvider = append(out.RetriesByProvider, StatsProviderOut{Provider: a.Keys[0], Attempts: a.Attempts.Total,
			Retries: a.Retries.Total, AttemptCounts: a.Attempts.Counts, RetryCounts: a.Retries.Counts})
	}
	for _, d := range st.Decisions {
		out.Decisions = append(out.Decisions, StatsDecisionOut{Trigger: d.Keys[0], Outcome: d.Keys[1], Reason: d.Keys[2], Total: d.Total, Counts: d.Counts})
	}
	for _, f := range st.MissingFields {
		out.MissingFields = append(out.MissingFields, StatsMissingFieldOut{Trigger: f.Keys[0], Field: f.Keys[1], Total: f.Total, Counts: f.Counts})
	}
	return &body[OutboxStatsOut]{Body: out}, nil
}
