-- quoteflow schema, version 16, SQLite dialect: trigger_events_dedupe
-- dropped, as on PostgreSQL (the reasons are in that dialect's file): the
-- dedupe lookups name the quote, and trigger_events_quote (tenant_id,
-- quote_id, id) finds the quote's events in id order.
DROP INDEX IF EXISTS trigger_events_dedupe;
