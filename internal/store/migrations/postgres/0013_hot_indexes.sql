-- quoteflow schema, version 13, PostgreSQL dialect: the indexes of the hot
-- tables, each kept for a query that needs it (issue 14, storage per sent
-- message). docs/ops/indexes.md lists every index with its query and plan.
--
-- A sent message writes a trigger event, a run (and updates it), a run
-- step, a message (and updates it) and an attempt: every index of those
-- tables gets an entry per row version, so an index no query reads costs
-- bytes on every message and is written on every commit.
--
-- Not CONCURRENTLY: migrations run in a transaction. The drops are quick;
-- the two builds below read messages once. For a large messages table,
-- build messages_stats_id and the two partial indexes CONCURRENTLY by
-- hand first under these names (IF NOT EXISTS then makes this a no-op).

-- The primary key on id alone: every statement of the store names the
-- tenant with the id, and UNIQUE (tenant_id, id), which every foreign key
-- to these tables references, answers it. The id stays unique per tenant
-- (and UUIDv7 makes a collision across tenants as unlikely as within one).
-- The replica identity, which was the primary key, becomes that index, so
-- that a logical replica still identifies updated and deleted rows.
ALTER TABLE trigger_events REPLICA IDENTITY USING INDEX trigger_events_tenant_id_id_key;
ALTER TABLE trigger_events DROP CONSTRAINT IF EXISTS trigger_events_pkey;
ALTER TABLE runs REPLICA IDENTITY USING INDEX runs_tenant_id_id_key;
ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_pkey;
ALTER TABLE run_steps REPLICA IDENTITY USING INDEX run_steps_tenant_id_id_key;
ALTER TABLE run_steps DROP CONSTRAINT IF EXISTS run_steps_pkey;
ALTER TABLE messages REPLICA IDENTITY USING INDEX messages_tenant_id_id_key;
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_pkey;

-- An attempt's message and number: UNIQUE (message_id, number) gives the
-- attempts of a message in order (ListAttempts, the foreign key's cascade),
-- the tenant being a filter on the few rows it finds.
DROP INDEX IF EXISTS message_attempts_message;

-- messages_created (tenant_id, created_at, id) and messages_stats
-- (tenant_id, created_at) INCLUDE (...) led with the same columns: one
-- index, keyed on (tenant_id, created_at, id), serves the unfiltered message
-- list in (created_at, id) order and the statistics' index-only scans.
CREATE INDEX IF NOT EXISTS messages_stats_id ON messages (tenant_id, created_at, id)
    INCLUDE (trigger, channel, status, reason, error_class, workflow_id, event_at, sent_at, delivered_at);
DROP INDEX IF EXISTS messages_created;
DROP INDEX IF EXISTS messages_stats;
ALTER INDEX messages_stats_id RENAME TO messages_stats;

-- Only fallbacks have fallback_of, and only messages a provider accepted
-- have a provider id: the lookups (the cascade from the replaced message,
-- the receipt's message) name a value, so they read only those rows.
CREATE INDEX IF NOT EXISTS messages_fallback_of ON messages (tenant_id, fallback_of) WHERE fallback_of IS NOT NULL;
DROP INDEX IF EXISTS messages_fallback;
ALTER INDEX messages_fallback_of RENAME TO messages_fallback;
CREATE INDEX IF NOT EXISTS messages_provider_id ON messages (tenant_id, provider_message_id) WHERE provider_message_id IS NOT NULL;
DROP INDEX IF EXISTS messages_provider;
ALTER INDEX messages_provider_id RENAME TO messages_provider;
