-- quoteflow schema, version 6, SQLite dialect: reserved.
--
-- Version 6 is another branch's (the coordinator assigns migration numbers
-- per helper). This placeholder only keeps the numbers contiguous on the
-- stats branch, whose migration is 0007; delete it when that branch's
-- 0006 is merged (two files numbered 6 fail loudly at start), and merge
-- that branch first so that no database records version 6 as this no-op.
SELECT 1;
