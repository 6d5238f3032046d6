-- quoteflow schema, version 7, PostgreSQL dialect: a quote's number is
-- unique in its tenant (issue 12: a retried create stored two quotes with
-- one number).
--
-- A database may already hold such duplicates, and the index cannot be
-- built over them. The first quote with a number (the smallest id: ids are
-- UUIDv7, so creation order) keeps it; each later one is renamed to
-- "<number> #<its id>", unique because ids are, and its version moves on so
-- that a client holding its ETag sees that it changed. Nothing is deleted:
-- which of the duplicates is the real one is the tenant's call.
UPDATE quotes SET number = number || ' #' || id, version = version + 1
WHERE EXISTS (SELECT 1 FROM quotes AS earlier
              WHERE earlier.tenant_id = quotes.tenant_id AND earlier.number = quotes.number AND earlier.id < quotes.id);

CREATE UNIQUE INDEX quotes_tenant_number ON quotes (tenant_id, number);
