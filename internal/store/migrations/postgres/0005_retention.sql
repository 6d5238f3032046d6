-- quoteflow schema, version 5: retention (postgres dialect).
--
-- Each tenant keeps its timeline for retention_days (default 400); the
-- purge job deletes older trigger events with everything that hangs off
-- them (runs, steps, messages, attempts, receipts). Before it deletes a
-- batch it adds the batch's counts to the rollups below, in the same
-- transaction, so every row is counted exactly once: in its own table while
-- it is kept, in a rollup once it is purged. Statistics read both.
--
-- A rollup row is one 5-minute slot (UTC, start in microseconds since the
-- epoch, like every time here) and one combination of the dimensions the
-- statistics group by; empty strings stand for absent values. Five minutes
-- is the smallest bucket the statistics offer, and every time zone's offset
-- is a whole number of them, so buckets in any zone are unions of slots.
ALTER TABLE tenants ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 400;
-- Where the purge has reached: everything created before it is in rollups.
ALTER TABLE tenants ADD COLUMN purged_before BIGINT;

CREATE TABLE stats_message_rollups (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slot        BIGINT NOT NULL,
    trigger     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    error_class TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    messages    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot, trigger, channel, status, reason, error_class, workflow_id)
);

-- Attempts by their own started_at slot; error_class is the attempt's,
-- the other dimensions its message's; retry is 1 for an attempt after the
-- message's first.
CREATE TABLE stats_attempt_rollups (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slot        BIGINT NOT NULL,
    trigger     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    error_class TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    provider    TEXT NOT NULL,
    retry       SMALLINT NOT NULL,
    attempts    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot, trigger, channel, status, reason, error_class, workflow_id, provider, retry)
);

CREATE TABLE stats_decision_rollups (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slot      BIGINT NOT NULL,
    trigger   TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    reason    TEXT NOT NULL,
    events    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot, trigger, outcome, reason)
);

-- Non-duplicate events whose decision named field among missing_fields.
CREATE TABLE stats_missing_rollups (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slot      BIGINT NOT NULL,
    trigger   TEXT NOT NULL,
    field     TEXT NOT NULL,
    events    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot, trigger, field)
);

-- Receipts that matched no message are purged by their own age.
CREATE INDEX receipts_orphan_age ON receipts (tenant_id, received_at) WHERE message_id IS NULL;
-- Deleting an event checks for duplicates that point at it (and deletes
-- them with it); without this index every deleted event scanned the table.
CREATE INDEX trigger_events_duplicate_of ON trigger_events (tenant_id, duplicate_of) WHERE duplicate_of IS NOT NULL;
