-- quoteflow schema, version 2, PostgreSQL dialect.
--
-- ListActiveRuns asks for one quote's runs in one status, in id order.
-- runs_quote (tenant_id, quote_id, status) leaves the order to a sort, so
-- the planner preferred runs_status (tenant_id, status, id), which gives the
-- order but reads every active run of the tenant: a quote action cost more
-- with every pending follow-up of the tenant. With id in the index the
-- quote's runs come out in order.
--
-- Not CONCURRENTLY: migrations run in a transaction, which CONCURRENTLY
-- refuses. The build blocks writes to runs while it reads the table once;
-- for a large runs table, create the index CONCURRENTLY by hand first and
-- IF NOT EXISTS makes this a no-op.
CREATE INDEX IF NOT EXISTS runs_quote_status ON runs (tenant_id, quote_id, status, id);

-- runs_quote is a prefix of runs_quote_status, which serves every lookup
-- it served (the (tenant_id, quote_id) foreign key included); keeping it
-- would only cost writes.
DROP INDEX IF EXISTS runs_quote;
