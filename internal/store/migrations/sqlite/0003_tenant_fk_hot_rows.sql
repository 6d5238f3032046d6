-- quoteflow schema, version 3, SQLite dialect.
--
-- On PostgreSQL this version drops the direct foreign keys to tenants of
-- five hot tables, because each insert locked the tenant's row (see the
-- PostgreSQL file). SQLite's foreign key checks take no row locks, and
-- dropping a constraint would mean rebuilding the tables, so nothing
-- changes here; the version exists so that both dialects count the same.
SELECT 1;
