-- quoteflow schema: alerts (postgres dialect).
--
-- One row per occurrence of a condition an admin should see. The evaluator
-- opens, touches (last_seen) and resolves them; at most one alert per
-- tenant, kind and subject is open at a time, which the partial unique
-- index makes a fact rather than a hope when two processes evaluate at once.
CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    state       TEXT NOT NULL,
    lead_id     TEXT,
    message_id  TEXT,
    rule_id     TEXT,
    provider    TEXT,
    trigger     TEXT,
    summary     TEXT NOT NULL,
    action      TEXT NOT NULL,
    figures     JSONB NOT NULL,
    first_seen  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE UNIQUE INDEX alerts_one_open ON alerts (tenant_id, kind, subject) WHERE state = 'open';
CREATE INDEX alerts_tenant ON alerts (tenant_id, state, id);
CREATE INDEX alerts_lead ON alerts (tenant_id, lead_id, id) WHERE lead_id IS NOT NULL;
