-- quoteflow schema, version 14, PostgreSQL dialect: the messages still in
-- flight, for the /metrics gauge quoteflow_messages.
--
-- The gauge used to count every message of every tenant by status at each
-- scrape: a scan of the whole table, which took 0.55-0.9 s at 2 million
-- rows on the 2-core machine and outgrows the scrape's 2 s budget at about
-- 5 million (two days at a billion messages a year). It now counts only
-- the statuses that still have delivery work (engine.MessageStatus.Final),
-- through this partial index, which holds those rows alone: a message gets
-- an entry while it is scheduled, queued or sending, and none once settled
-- (its settled version is outside the predicate). Messages written settled
-- (suppressed, cancelled, shadow) never get one. docs/ops/indexes.md.
--
-- Not CONCURRENTLY: migrations run in a transaction, and this reads
-- messages once. For a large table build it CONCURRENTLY by hand first
-- under this name; IF NOT EXISTS then makes this a no-op.
CREATE INDEX IF NOT EXISTS messages_in_flight ON messages (status, trigger, channel)
    WHERE status IN ('scheduled', 'queued', 'sending');
