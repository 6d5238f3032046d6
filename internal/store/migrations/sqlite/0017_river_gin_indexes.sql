-- quoteflow schema, version 17, SQLite dialect: nothing to change.
--
-- PostgreSQL's version 17 drops River's GIN indexes on its jobs' args and
-- metadata; River's SQLite schema never had them. The number is kept so
-- that both dialects stay at one version.
SELECT 1;
