-- quoteflow schema, version 12, PostgreSQL dialect: circuits that half-open
-- (issue 10, retry noise), and alert emails (issue 10, alert email).
--
-- A circuit now opens for one of two causes: a tenant-class error, as
-- before, or transient failures of the provider for the tenant past a
-- threshold. Once its until has passed it is half-open: one message at a
-- time is let through as the probe (probe_message_id, leased until
-- probe_until), taken with a conditional UPDATE so that two processes never
-- both probe. The probe's success closes it; its failure re-opens it with
-- a backoff that doubles with opens.
--
-- A closed circuit keeps its row with closed_at set, instead of being
-- deleted: the transient threshold counts failures since the circuit last
-- closed, so that the failures that opened it do not open it again the
-- moment the probe has closed it. Every read of open circuits filters on
-- closed_at IS NULL; opening again clears it.
ALTER TABLE circuits ADD COLUMN cause TEXT NOT NULL DEFAULT 'tenant';
ALTER TABLE circuits ADD COLUMN opens BIGINT NOT NULL DEFAULT 1;
ALTER TABLE circuits ADD COLUMN probe_message_id TEXT;
ALTER TABLE circuits ADD COLUMN probe_until BIGINT;
ALTER TABLE circuits ADD COLUMN closed_at BIGINT;

-- Alert email (issue 10, part 5). A tenant's alerts settings, as JSON
-- ({"email": "..."}), NULL when it has none.
ALTER TABLE tenants ADD COLUMN alerts JSONB;
-- Which email named an alert, and when it was queued: an alert of the same
-- kind and subject is not emailed again within the hour.
ALTER TABLE alerts ADD COLUMN email_id TEXT;
ALTER TABLE alerts ADD COLUMN emailed_at BIGINT;
CREATE INDEX alerts_emailed ON alerts (tenant_id, kind, subject, emailed_at) WHERE emailed_at IS NOT NULL;
-- Alert emails are an outbox of their own: the messages table belongs to
-- leads (lead_id NOT NULL, and every reader of it assumes a lead and a
-- trigger). One row per email, naming one or more new alerts; written in
-- the transaction that opens them, delivered by the alert job through the
-- tenant's email channel, retried on transient errors.
CREATE TABLE alert_emails (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    recipient           TEXT NOT NULL,
    subject             TEXT NOT NULL,
    body                TEXT NOT NULL,
    alert_count         BIGINT NOT NULL,
    status              TEXT NOT NULL, -- queued, sending, sent, failed, unknown
    attempts            BIGINT NOT NULL DEFAULT 0,
    provider            TEXT NOT NULL DEFAULT '',
    error_class         TEXT NOT NULL DEFAULT '',
    last_error          TEXT NOT NULL DEFAULT '',
    provider_message_id TEXT,
    next_at             BIGINT NOT NULL, -- when a queued email is due
    sent_at             BIGINT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX alert_emails_due ON alert_emails (tenant_id, status, next_at);
