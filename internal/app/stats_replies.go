package app

import (
	"context"
	"sort"
	"time"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// ReplySeries is what customers answered to one trigger and workflow's
// messages in a statistics window. Sent counts the messages written in the
// window that reached their provider (status sent, delivered or read) and
// Replied those of them that got a reply; ReplyRate is Replied/Sent (0
// when nothing was sent). Inbound counts the replies received in each
// bucket that answer this trigger and workflow, OptOuts the WhatsApp
// opt-outs and Unsubscribes the email unsubscribes made in each bucket.
// Trigger and WorkflowID are empty for replies that answer no message
// quoteflow sent (engine.ReplyAttribution). Every count reads the rollups
// of purged periods too, so a purge changes none.
type ReplySeries struct {
	Trigger, WorkflowID string
	Sent, Replied       int64
	ReplyRate           float64
	Inbound, OptOuts    StatsSeries
	Unsubscribes        StatsSeries
}

// reachedProvider are the statuses of a message the provider accepted.
var reachedProvider = map[string]bool{string(engine.MsgSent): true, string(engine.MsgDelivered): true, string(engine.MsgRead): true}

// fillReplies adds the replies, opt-outs and unsubscribes of the window to
// s, by trigger and workflow, and their totals.
func (s *OutboxStats) fillReplies(ctx context.Context, tx *store.Tx, q store.StatsQuery) error {
	if err := tx.StatsSession(ctx); err != nil {
		return err
	}
	index := func(slot time.Time) int {
		if slot.Before(s.From) {
			slot = s.From
		}
		return bucketIndex(s.Buckets, slot)
	}
	series := map[[2]string]*ReplySeries{}
	get := func(trigger, workflow string) *ReplySeries {
		k := [2]string{trigger, workflow}
		r, ok := series[k]
		if !ok {
			n := len(s.Buckets)
			r = &ReplySeries{Trigger: trigger, WorkflowID: workflow,
				Inbound:      StatsSeries{Keys: k[:], Counts: make([]int64, n)},
				OptOuts:      StatsSeries{Keys: k[:], Counts: make([]int64, n)},
				Unsubscribes: StatsSeries{Keys: k[:], Counts: make([]int64, n)}}
			series[k] = r
		}
		return r
	}
	// Sent, from the outbox counts (which read their rollups).
	sq := q
	sq.GroupBy = []string{"trigger", "workflow", "status"}
	msgs, err := tx.MessageCounts(ctx, sq)
	if err != nil {
		return err
	}
	for _, c := range msgs {
		if reachedProvider[c.Keys[2]] {
			get(c.Keys[0], c.Keys[1]).Sent += c.Count
			s.TotalSent += c.Count
		}
	}
	counts, err := tx.ReplyCounts(ctx, q)
	if err != nil {
		return err
	}
	for _, c := range counts {
		r := get(c.Trigger, c.WorkflowID)
		var ser *StatsSeries
		switch c.Kind {
		case store.ReplyKindReplied:
			r.Replied += c.Count
			s.TotalReplied += c.Count
			continue
		case store.ReplyKindReply:
			ser = &r.Inbound
			s.TotalInbound += c.Count
		case store.ReplyKindOptOut:
			ser = &r.OptOuts
			s.TotalOptOuts += c.Count
		case store.ReplyKindUnsubscribe:
			ser = &r.Unsubscribes
			s.TotalUnsubscribes += c.Count
		default:
			continue
		}
		ser.Counts[index(c.Slot)] += c.Count
		ser.Total += c.Count
	}
	for _, r := range series {
		r.ReplyRate = replyRate(r.Replied, r.Sent)
		s.Replies = append(s.Replies, *r)
	}
	sort.Slice(s.Replies, func(i, j int) bool {
		a, b := s.Replies[i], s.Replies[j]
		if a.Trigger != b.Trigger {
			return a.Trigger < b.Trigger
		}
		return a.WorkflowID < b.WorkflowID
	})
	return nil
}

// replyRate is replied/sent, 0 when nothing was sent. Both count messages
// by when they were written, and an answered message is one its provider
// accepted, so the rate stays within 0 and 1 (short of a message failing
// by receipt after its customer answered it).
func replyRate(replied, sent int64) float64 {
	if sent == 0 {
		return 0
	}
	return float64(replied) / float64(sent)
}

// ReplyRate is the window's reply rate over every trigger and workflow.
func (s *OutboxStats) ReplyRate() float64 { return replyRate(s.TotalReplied, s.TotalSent) }
