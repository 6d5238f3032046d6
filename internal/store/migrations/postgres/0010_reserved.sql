-- quoteflow schema, version 10, PostgreSQL dialect: reserved.
--
-- Version 10 is the replies branch's (0010_inbound: inbound WhatsApp
-- messages). This placeholder only keeps the numbers contiguous on the
-- circuit branch: delete it when merging (two files with one number fail
-- loudly at start), and no kept database should ever record version 10 as
-- this no-op.
SELECT 1;
