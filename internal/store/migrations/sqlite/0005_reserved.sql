-- quoteflow schema, version 5, SQLite dialect: reserved.
--
-- Version 5 is another branch's (on main: 0005_retention; idem also has
-- one). This placeholder only keeps the numbers contiguous on the limits
-- branch: delete it when merging, and renumber 0006_receipts_unique to the
-- next free number. Two files with one number fail loudly at start, and no
-- kept database should ever record version 5 as this no-op.
SELECT 1;
