-- quoteflow schema, version 8, PostgreSQL dialect: what outbox statistics
-- read (docs/ops/observability.md lists each index with its query plan).
--
-- Attempts are counted by when they started: without this index the
-- attempts query scans every attempt of every tenant. INCLUDE carries the
-- columns that query groups by, for index-only scans of settled rows.
CREATE INDEX IF NOT EXISTS message_attempts_started
    ON message_attempts (tenant_id, started_at) INCLUDE (provider, number, error_class, message_id);

-- Messages are counted, and their latencies ranked, by when they were
-- written: over a week of a busy tenant the planner reads the whole table
-- rather than visit a quarter of it through messages_created. This index
-- carries every column the statistics read, for index-only scans (settled
-- rows are all-visible once vacuumed). It costs one more index entry per
-- message write and per status change; such updates are not HOT anyway,
-- since status is indexed (messages_status).
CREATE INDEX IF NOT EXISTS messages_stats ON messages (tenant_id, created_at)
    INCLUDE (trigger, channel, status, reason, error_class, workflow_id, event_id, sent_at, delivered_at);
