-- quoteflow schema, version 13, SQLite dialect: the indexes of the hot
-- tables, each kept for a query that needs it (issue 14, storage per sent
-- message). docs/ops/indexes.md lists every index with its query and plan.
--
-- The PostgreSQL migration also drops the primary keys on id alone; here
-- they and UNIQUE (tenant_id, id) are part of the table's definition, and
-- dropping one means rebuilding the table (the largest ones of the
-- database), so both stay.

-- An attempt's message and number: UNIQUE (message_id, number) gives the
-- attempts of a message in order (ListAttempts, the foreign key's cascade),
-- the tenant being a filter on the few rows it finds.
DROP INDEX IF EXISTS message_attempts_message;

-- messages_created (tenant_id, created_at, id) and messages_stats
-- (tenant_id, created_at, trigger, ...) led with the same columns: one
-- index, with id right after created_at, serves the unfiltered message list
-- in (created_at, id) order and the statistics, which it still covers.
DROP INDEX IF EXISTS messages_created;
DROP INDEX IF EXISTS messages_stats;
CREATE INDEX messages_stats ON messages (tenant_id, created_at, id, trigger, channel, status, reason, error_class, workflow_id,
    event_at, sent_at, delivered_at);

-- Only fallbacks have fallback_of, and only messages a provider accepted
-- have a provider id: the lookups (the cascade from the replaced message,
-- the receipt's message) name a value, so they read only those rows.
DROP INDEX IF EXISTS messages_fallback;
CREATE INDEX messages_fallback ON messages (tenant_id, fallback_of) WHERE fallback_of IS NOT NULL;
DROP INDEX IF EXISTS messages_provider;
CREATE INDEX messages_provider ON messages (tenant_id, provider_message_id) WHERE provider_message_id IS NOT NULL;
