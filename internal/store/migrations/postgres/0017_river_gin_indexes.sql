-- quoteflow schema, version 17, PostgreSQL dialect: River's two GIN
-- indexes go.
--
-- River's schema indexes every job's args and metadata with GIN, for its
-- job list's filters on them (JobListParams.Metadata and the like). No
-- part of quoteflow filters jobs that way, nor does River's UI, and River
-- itself fetches, completes and deletes jobs through its b-tree indexes.
-- Every job inserted, and every change of its state (available, running,
-- completed: none of them a HOT update, state being indexed), put each key
-- and value of its args into the GIN index again: measured, a third of
-- river_job's bytes (370 bytes per delivered message of the 1,250 River's
-- table took) and a few per cent of the database's CPU per message
-- (docs/PERFORMANCE.md, "Sixth round"). River's SQLite schema has never had
-- them. River's reindexer is told not to look for them (internal/jobs).
--
-- River's migrations run before quoteflow's (Migrate), so on a new
-- database this finds them to drop.
DROP INDEX IF EXISTS river_job_args_index;
DROP INDEX IF EXISTS river_job_metadata_index;
