-- quoteflow schema, version 11, SQLite dialect: circuits that half-open
-- (issue 10, retry noise).
--
-- A circuit now opens for one of two causes: a tenant-class error, as
-- before, or transient failures of the provider for the tenant past a
-- threshold. Once its until has passed it is half-open: one message at a
-- time is let through as the probe (probe_message_id, leased until
-- probe_until), taken with a conditional UPDATE so that two processes never
-- both probe. The probe's success closes it; its failure re-opens it with
-- a backoff that doubles with opens.
--
-- A closed circuit keeps its row with closed_at set, instead of being
-- deleted: the transient threshold counts failures since the circuit last
-- closed, so that the failures that opened it do not open it again the
-- moment the probe has closed it. Every read of open circuits filters on
-- closed_at IS NULL; opening again clears it.
ALTER TABLE circuits ADD COLUMN cause TEXT NOT NULL DEFAULT 'tenant';
ALTER TABLE circuits ADD COLUMN opens INTEGER NOT NULL DEFAULT 1;
ALTER TABLE circuits ADD COLUMN probe_message_id TEXT;
ALTER TABLE circuits ADD COLUMN probe_until INTEGER;
ALTER TABLE circuits ADD COLUMN closed_at INTEGER;
