-- quoteflow schema, version 5, SQLite dialect: reserved.
--
-- Version 5 is another branch's (idem: quote numbers unique per tenant).
-- This placeholder only keeps the numbers contiguous on the limits branch;
-- delete it when that branch's 0005 is merged (two files numbered 5 fail
-- loudly at start), and merge that branch first so no database records
-- version 5 as this no-op.
SELECT 1;
