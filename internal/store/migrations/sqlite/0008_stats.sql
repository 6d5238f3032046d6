-- quoteflow schema, version 8, SQLite dialect: what outbox statistics
-- read (docs/ops/observability.md lists each index with its query plan).
--
-- Attempts are counted by when they started: without this index the
-- attempts query scans every attempt of every tenant. It carries the
-- columns that query groups by, so SQLite answers it from the index alone.
CREATE INDEX message_attempts_started
    ON message_attempts (tenant_id, started_at, provider, number, error_class, message_id);

-- Messages are counted, and their latencies ranked, by when they were
-- written: the existing messages_created (tenant_id, created_at, id) finds
-- the window but every row's columns are then read from the table. This
-- one carries every column the statistics read, so the message queries
-- never touch the table. It costs one more index entry per message write
-- and per status change; messages_status already makes those updates
-- rewrite index entries.
CREATE INDEX messages_stats ON messages (tenant_id, created_at, trigger, channel, status, reason, error_class, workflow_id,
    event_id, sent_at, delivered_at);
