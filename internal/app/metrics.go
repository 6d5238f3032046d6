package app

import (
	"context"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quoteflow/quoteflow/internal/engine"
	"github.com/quoteflow/quoteflow/internal/store"
)

// metrics are the application's Prometheus series. None carries a tenant,
// lead or message id: those are unbounded, and the statistics endpoint and
// the logs answer per-tenant questions.
//
// Counters and histograms are counted by this process after the commit of
// the transaction that decided them (GroupTx may run a function twice, the
// first time rolled back, so nothing is counted inside one). The messages'
// status gauge and the open circuits are read from the database when
// scraped, so they are exact across processes and restarts.
type metrics struct {
	// deliveries counts provider answers, where the outcome is known.
	deliveries *prometheus.CounterVec
	// attempts counts recorded attempt outcomes: sent, retry, failed or
	// unknown, with the error class of a failure.
	attempts *prometheus.CounterVec
	// decisions counts trigger events by what was decided and why.
	decisions *prometheus.CounterVec
	// eventToSent is the time from the trigger event to the provider's
	// acceptance, workflow delays and quiet hours included.
	eventToSent *prometheus.HistogramVec
	// sentToDelivered is the time from the provider's acceptance to the
	// delivery receipt.
	sentToDelivered *prometheus.HistogramVec
	// inbound counts customers' WhatsApp messages stored, by type and how
	// they matched a lead; consent counts consent changes (issue 13).
	inbound *prometheus.CounterVec
	consent *prometheus.CounterVec
}

// lagBuckets span a send due at once (seconds) to one held over a weekend
// of quiet hours or a multi-day workflow delay.
var lagBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 7200, 21600, 86400, 259200, 604800}

// receiptBuckets span a WhatsApp receipt (seconds) to a phone that was off
// for a day.
var receiptBuckets = []float64{0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400}

func newMetrics() *metrics {
	return &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quoteflow_deliveries_total",
			Help: "Delivery attempts finished by this process, by channel, provider and outcome (sent, or the error class).",
		}, []string{"channel", "provider", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quoteflow_attempts_total",
			Help: "Recorded delivery attempts by trigger, channel, provider, outcome (sent, retry, failed, unknown) and error class (empty when sent).",
		}, []string{"trigger", "channel", "provider", "outcome", "error_class"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quoteflow_decisions_total",
			Help: "Trigger events by trigger, decision outcome (workflow, legacy, suppressed, none) and reason code.",
		}, []string{"trigger", "outcome", "reason"}),
		eventToSent: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quoteflow_event_to_sent_seconds",
			Help:    "Seconds from a trigger event to the provider accepting one of its messages, by trigger and channel.",
			Buckets: lagBuckets,
		}, []string{"trigger", "channel"}),
		sentToDelivered: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "quoteflow_sent_to_delivered_seconds",
			Help:    "Seconds from the provider accepting a message to its delivery receipt, by channel.",
			Buckets: receiptBuckets,
		}, []string{"channel"}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quoteflow_inbound_messages_total",
			Help: "Customers' WhatsApp messages stored (a redelivery is not counted again), by type (Meta's, other for one not documented) and match (lead, unknown_number, ambiguous).",
		}, []string{"type", "match"}),
		consent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "quoteflow_consent_changes_total",
			Help: "Changes of leads' consent, by channel (whatsapp, email), change (opt_out, opt_in) and source (keyword, button, preference, unsubscribe, api).",
		}, []string{"channel", "change", "source"}),
	}
}

func (m *metrics) register(r prometheus.Registerer, db Store, now func() time.Time) {
	r.MustRegister(m.deliveries, m.attempts, m.decisions, m.eventToSent, m.sentToDelivered, m.inbound, m.consent,
		&tableCollector{db: db, now: now})
}

// decided counts the decision of a committed trigger event.
func (m *metrics) decided(ev *engine.Event) {
	m.decisions.WithLabelValues(string(ev.Trigger), string(ev.Decision.Outcome), ev.Decision.Reason).Inc()
}

// attempted counts a committed attempt outcome; eventAt is the trigger
// event's time when the attempt sent its message (zero otherwise).
func (m *metrics) attempted(msg *engine.Message, att *engine.Attempt, eventAt time.Time) {
	m.attempts.WithLabelValues(string(msg.Trigger), msg.Channel, msg.Provider, att.Outcome, att.ErrorClass).Inc()
	if att.Outcome == "sent" && !eventAt.IsZero() && att.FinishedAt != nil {
		m.eventToSent.WithLabelValues(string(msg.Trigger), msg.Channel).Observe(att.FinishedAt.Sub(eventAt).Seconds())
	}
}

// pendingMetrics holds what a transaction will count once it commits.
type pendingMetrics []func()

func (p *pendingMetrics) add(f func()) { *p = append(*p, f) }

// flush counts everything added; call it only after the commit.
func (p pendingMetrics) flush() {
	for _, f := range p {
		f()
	}
}

// scrapeTimeout bounds the database reads of one scrape: a slow database
// makes the series missing from that scrape, never a hung /metrics.
const scrapeTimeout = 2 * time.Second

// providers are the provider names a circuit can be open for; each gets a
// series even at zero, so that a dashboard shows a flat line rather than
// no data.
var providers = []string{"log", "smtp", "cloud_api"}

// inFlight are the statuses quoteflow_messages counts: those in which a
// message still has delivery work, the same the store counts.
var inFlight = slices.DeleteFunc(slices.Clone(engine.MessageStatuses), engine.MessageStatus.Final)

var (
	messagesDesc = prometheus.NewDesc("quoteflow_messages",
		"Messages in flight now (scheduled, queued or sending: delivery work remains), by trigger, channel and status, across tenants (read from the database at scrape).",
		[]string{"trigger", "channel", "status"}, nil)
	circuitsDesc = prometheus.NewDesc("quoteflow_circuits_open",
		"Tenants whose circuit for the provider is open now (0 when none): sends through it wait (read from the database at scrape).",
		[]string{"provider"}, nil)
)

// tableCollector reads the gauges that are facts about the tables.
type tableCollector struct {
	db  Store
	now func() time.Time
}

// Describe implements prometheus.Collector.
func (c *tableCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- messagesDesc
	ch <- circuitsDesc
	ch <- circuitStatesDesc
}

// Collect implements prometheus.Collector.
func (c *tableCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if counts, err := c.db.InFlightCounts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(messagesDesc, err)
	} else {
		// Every trigger, channel and in-flight status gets a series, at
		// zero when nothing is in flight: an empty outbox is the usual
		// state, and should draw a flat line, not a gap.
		n := map[[3]string]int64{}
		for _, t := range engine.Triggers {
			for _, channel := range []string{engine.ChannelEmail, engine.ChannelWhatsApp} {
				for _, st := range inFlight {
					n[[3]string{string(t), channel, string(st)}] = 0
				}
			}
		}
		for _, s := range counts {
			n[[3]string{s.Trigger, s.Channel, s.Status}] += s.Count
		}
		for k, v := range n {
			ch <- prometheus.MustNewConstMetric(messagesDesc, prometheus.GaugeValue, float64(v), k[0], k[1], k[2])
		}
	}
	c.collectCircuitStates(ctx, ch)
	open, err := c.db.OpenCircuitCounts(ctx, c.now())
	if err != nil {
		ch <- prometheus.NewInvalidMetric(circuitsDesc, err)
		return
	}
	seen := map[string]bool{}
	for _, p := range providers {
		seen[p] = true
		ch <- prometheus.MustNewConstMetric(circuitsDesc, prometheus.GaugeValue, float64(open[p]), p)
	}
	for p, n := range open {
		if !seen[p] {
			ch <- prometheus.MustNewConstMetric(circuitsDesc, prometheus.GaugeValue, float64(n), p)
		}
	}
}

// metricsStore is what the table collector reads; Store includes it.
type metricsStore interface {
	InFlightCounts(ctx context.Context) ([]store.StatusCount, error)
	OpenCircuitCounts(ctx context.Context, now time.Time) (map[string]int64, error)
	CircuitStateCounts(ctx context.Context, now time.Time) (map[string]map[engine.CircuitState]int64, error)
}
