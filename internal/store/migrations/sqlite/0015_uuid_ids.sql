-- quoteflow schema, version 15, SQLite dialect: nothing to change.
--
-- PostgreSQL's version 15 stores ids as uuid (16 bytes instead of 37 as
-- text). SQLite keeps them as text: a 16-byte blob would save about as
-- much there, but every id would then need converting in every statement
-- and in every row the store reads, for a database meant for one machine's
-- volumes. The number is kept so that both dialects stay at one version.
SELECT 1;
