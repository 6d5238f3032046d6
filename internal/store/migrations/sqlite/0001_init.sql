-- quoteflow schema, version 1, SQLite dialect.
--
-- Representation, identical in both dialects so that the Go code that scans
-- rows is written once:
--   * times are INTEGER Unix microseconds, UTC; time buckets are integer
--     arithmetic and no driver-specific time parsing is involved;
--   * JSON is TEXT here (JSONB on PostgreSQL); NULL means the Go value was
--     nil, so nil and empty lists or objects stay distinct;
--   * booleans are INTEGER 0/1 here (BOOLEAN on PostgreSQL);
--   * ids are TEXT UUIDv7 strings, so their text order is creation order and
--     they serve as pagination cursors.
-- Every row carries tenant_id. Tables that other tables point at have
-- UNIQUE (tenant_id, id), so foreign keys are composite and lead with
-- tenant_id: a row can never reference another tenant's row.
-- Business rules live in Go, not here: no triggers, no CHECKs on statuses.
-- Tables are STRICT so a value of the wrong type is an error, not a surprise.

CREATE TABLE tenants (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    timezone       TEXT NOT NULL,
    mode           TEXT NOT NULL,
    quiet_hours    TEXT,
    holidays       TEXT,
    channels       TEXT NOT NULL, -- includes secrets; the API hides them
    config_version INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    secret_hash  BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE leads (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    first_name      TEXT NOT NULL,
    last_name       TEXT NOT NULL,
    email           TEXT NOT NULL,
    phone           TEXT NOT NULL,
    language        TEXT NOT NULL,
    country         TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    source          TEXT NOT NULL,
    stage           TEXT NOT NULL,
    tags            TEXT,
    owner           TEXT NOT NULL,
    custom          TEXT,
    email_opt_out   INTEGER NOT NULL,
    whatsapp_opt_in INTEGER NOT NULL,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE quotes (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id          TEXT NOT NULL,
    number           TEXT NOT NULL,
    amount_minor     INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    status           TEXT NOT NULL,
    valid_until      INTEGER,
    revision         INTEGER NOT NULL,
    public_token     TEXT NOT NULL UNIQUE,
    rejection_reason TEXT NOT NULL,
    version          INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX quotes_lead ON quotes (tenant_id, lead_id, id);
CREATE INDEX quotes_status ON quotes (tenant_id, status, id);
-- The expiry sweep, across tenants: sent or viewed quotes past valid_until.
CREATE INDEX quotes_expiry ON quotes (status, valid_until);

-- A workflow is an identity plus a pointer to its current version; its
-- content lives in immutable versions. Deleting a workflow only sets
-- deleted_at, so that runs keep the version they execute.
CREATE TABLE workflows (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    current_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    deleted_at      INTEGER,
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE workflow_versions (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    workflow_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    enabled     INTEGER NOT NULL,
    exit_on     TEXT,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, version),
    UNIQUE (tenant_id, workflow_id, version),
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id) ON DELETE CASCADE
) STRICT;

CREATE TABLE workflow_steps (
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    workflow_id      TEXT NOT NULL,
    version          INTEGER NOT NULL,
    position         INTEGER NOT NULL,
    step_id          TEXT NOT NULL,
    type             TEXT NOT NULL,
    when_condition   TEXT, -- the step's "when"; WHEN is reserved in SQL
    email            TEXT,
    whatsapp         TEXT,
    wait             TEXT,
    fallback_channel TEXT NOT NULL,
    PRIMARY KEY (workflow_id, version, position),
    UNIQUE (workflow_id, version, step_id),
    FOREIGN KEY (tenant_id, workflow_id, version)
        REFERENCES workflow_versions (tenant_id, workflow_id, version) ON DELETE CASCADE
) STRICT;

CREATE TABLE assignment_rules (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    priority    INTEGER NOT NULL,
    enabled     INTEGER NOT NULL,
    condition   TEXT,
    workflow_id TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id)
) STRICT;
CREATE INDEX assignment_rules_order ON assignment_rules (tenant_id, priority, created_at, id);
CREATE INDEX assignment_rules_workflow ON assignment_rules (tenant_id, workflow_id);

CREATE TABLE lead_overrides (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id     TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    action      TEXT NOT NULL,
    workflow_id TEXT,
    expires_at  INTEGER,
    reason      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, lead_id, trigger),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows (tenant_id, id)
) STRICT;
CREATE INDEX lead_overrides_workflow ON lead_overrides (tenant_id, workflow_id);

CREATE TABLE legacy_settings (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    trigger    TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    channels   TEXT,
    email      TEXT,
    whatsapp   TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, trigger)
) STRICT;

-- Execution. The tables below are written by quote actions, step jobs and
-- deliveries; everything a lead caused goes away with the lead.

CREATE TABLE trigger_events (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id         TEXT NOT NULL,
    quote_id        TEXT,
    trigger         TEXT NOT NULL,
    action          TEXT NOT NULL,
    idempotency_key TEXT,
    dedupe_key      TEXT, -- quote, action and quote revision: the business event
    duplicate       INTEGER NOT NULL,
    duplicate_of    TEXT, -- the first event of the business event, for a duplicate
    context         TEXT, -- the lead context snapshot
    decision        TEXT NOT NULL,
    outcome         TEXT NOT NULL, -- decision.outcome, for filters and counts
    reason          TEXT NOT NULL, -- decision.reason
    response        TEXT, -- the first response, replayed for a repeated Idempotency-Key
    created_at      INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, quote_id) REFERENCES quotes (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, duplicate_of) REFERENCES trigger_events (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE UNIQUE INDEX trigger_events_idempotency ON trigger_events (tenant_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX trigger_events_dedupe ON trigger_events (tenant_id, dedupe_key, id);
CREATE INDEX trigger_events_lead ON trigger_events (tenant_id, lead_id, id);
CREATE INDEX trigger_events_quote ON trigger_events (tenant_id, quote_id, id);
CREATE INDEX trigger_events_created ON trigger_events (tenant_id, created_at);

CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_id         TEXT NOT NULL,
    lead_id          TEXT NOT NULL,
    quote_id         TEXT,
    workflow_id      TEXT NOT NULL,
    workflow_version INTEGER NOT NULL,
    trigger          TEXT NOT NULL,
    status           TEXT NOT NULL,
    shadow           INTEGER NOT NULL DEFAULT 0, -- shadow mode: its messages are never delivered
    reason           TEXT NOT NULL DEFAULT '', -- why it was cancelled or failed
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    finished_at      INTEGER,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, event_id) REFERENCES trigger_events (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, quote_id) REFERENCES quotes (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, workflow_id, workflow_version)
        REFERENCES workflow_versions (tenant_id, workflow_id, version)
) STRICT;
CREATE INDEX runs_event ON runs (tenant_id, event_id);
CREATE INDEX runs_lead ON runs (tenant_id, lead_id, id);
CREATE INDEX runs_quote ON runs (tenant_id, quote_id, status);
CREATE INDEX runs_status ON runs (tenant_id, status, id);
CREATE INDEX runs_workflow ON runs (tenant_id, workflow_id, workflow_version);

CREATE TABLE run_steps (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    run_id       TEXT NOT NULL,
    step_id      TEXT NOT NULL,
    position     INTEGER NOT NULL,
    type         TEXT NOT NULL,
    status       TEXT NOT NULL,
    outcome      TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    scheduled_at INTEGER,
    started_at   INTEGER,
    finished_at  INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (run_id, step_id),
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE
) STRICT;

-- Legacy sends have no run: run, step and workflow columns are nullable.
-- UNIQUE (run_step_id, channel) is what makes a retried step write its
-- message once; NULLs are distinct, so it does not constrain legacy rows.
CREATE TABLE messages (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    run_id              TEXT,
    run_step_id         TEXT,
    event_id            TEXT,
    lead_id             TEXT NOT NULL,
    quote_id            TEXT,
    workflow_id         TEXT,
    workflow_version    INTEGER,
    step_id             TEXT,
    trigger             TEXT NOT NULL,
    channel             TEXT NOT NULL,
    provider            TEXT NOT NULL DEFAULT '', -- as configured when queued
    recipient           TEXT NOT NULL,
    subject             TEXT NOT NULL DEFAULT '',
    body                TEXT NOT NULL DEFAULT '',
    html                TEXT,
    template            TEXT, -- WhatsApp template name, language and rendered parameters
    status              TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT NOT NULL DEFAULT '',
    error_class         TEXT NOT NULL DEFAULT '',
    reason              TEXT NOT NULL DEFAULT '',
    provider_message_id TEXT,
    fallback_of         TEXT, -- the message this one replaces on its fallback channel
    scheduled_at        INTEGER, -- when the next delivery attempt is due
    sent_at             INTEGER,
    delivered_at        INTEGER,
    read_at             INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (run_step_id, channel),
    FOREIGN KEY (tenant_id, run_id) REFERENCES runs (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, run_step_id) REFERENCES run_steps (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, event_id) REFERENCES trigger_events (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, quote_id) REFERENCES quotes (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, fallback_of) REFERENCES messages (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX messages_created ON messages (tenant_id, created_at, id);
CREATE INDEX messages_status ON messages (tenant_id, status, id);
CREATE INDEX messages_lead ON messages (tenant_id, lead_id, id);
CREATE INDEX messages_run ON messages (tenant_id, run_id, status);
CREATE INDEX messages_quote ON messages (tenant_id, quote_id, id);
CREATE INDEX messages_fallback ON messages (tenant_id, fallback_of);
CREATE INDEX messages_event ON messages (tenant_id, event_id);
CREATE INDEX messages_provider ON messages (tenant_id, provider_message_id);

CREATE TABLE message_attempts (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    message_id          TEXT NOT NULL,
    number              INTEGER NOT NULL,
    provider            TEXT NOT NULL DEFAULT '',
    started_at          INTEGER NOT NULL,
    finished_at         INTEGER,
    outcome             TEXT NOT NULL DEFAULT '',
    error               TEXT NOT NULL DEFAULT '',
    error_class         TEXT NOT NULL DEFAULT '',
    provider_message_id TEXT,
    retry_at            INTEGER, -- when the next attempt is due, after a transient error
    UNIQUE (message_id, number),
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX message_attempts_message ON message_attempts (tenant_id, message_id, number);

-- message_id is NULL for a receipt about a message we do not know (yet).
CREATE TABLE receipts (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    message_id          TEXT,
    provider_message_id TEXT NOT NULL,
    status              TEXT NOT NULL,
    provider_timestamp  INTEGER,
    error_code          TEXT NOT NULL DEFAULT '',
    error_class         TEXT NOT NULL DEFAULT '',
    payload             TEXT,
    received_at         INTEGER NOT NULL,
    FOREIGN KEY (tenant_id, message_id) REFERENCES messages (tenant_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX receipts_message ON receipts (tenant_id, message_id);
CREATE INDEX receipts_provider ON receipts (tenant_id, provider_message_id);

-- An open circuit stops a tenant's sends through one provider after a
-- tenant-class error (credentials, policy, quality); closing it deletes the
-- row.
CREATE TABLE circuits (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    error_code TEXT NOT NULL,
    opened_at  INTEGER NOT NULL,
    until      INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, provider)
) STRICT;

CREATE TABLE idempotency_keys (
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key          TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code  INTEGER NOT NULL,
    response     TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
