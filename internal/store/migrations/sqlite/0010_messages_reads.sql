-- quoteflow schema, version 10, SQLite dialect: two reads of messages made cheap.
--
-- The message list is ordered by
-- (created_at, id) (store.ListMessages), so each index a filtered page
-- starts from ends in those two columns. A page filtered by status (or
-- lead, or quote) and a time window then reads from the window's first
-- matching entry and stops after one page; ordered by id, PostgreSQL
-- walked the tenant's messages from the first one
-- (docs/ops/observability.md has the plans).
DROP INDEX IF EXISTS messages_status;
CREATE INDEX messages_status ON messages (tenant_id, status, created_at, id);
DROP INDEX IF EXISTS messages_lead;
CREATE INDEX messages_lead ON messages (tenant_id, lead_id, created_at, id);
DROP INDEX IF EXISTS messages_quote;
CREATE INDEX messages_quote ON messages (tenant_id, quote_id, created_at, id);

-- The event -> sent latency of the statistics ranks sent_at against the
-- trigger event's created_at. Copied onto the message when it is written
-- (an event's created_at never changes), it saves the statistics a join
-- of a week of messages to the tenant's events, which was half of a 7-day
-- answer on PostgreSQL. messages_stats carries it for index-only scans, and
-- no longer event_id, which only that join read.
ALTER TABLE messages ADD COLUMN event_at INTEGER;
UPDATE messages SET event_at = (SELECT e.created_at FROM trigger_events e
    WHERE e.tenant_id = messages.tenant_id AND e.id = messages.event_id)
WHERE event_id IS NOT NULL;
DROP INDEX IF EXISTS messages_stats;
CREATE INDEX messages_stats ON messages (tenant_id, created_at, trigger, channel, status, reason, error_class, workflow_id,
    event_at, sent_at, delivered_at);
