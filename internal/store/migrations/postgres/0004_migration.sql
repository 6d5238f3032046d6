-- quoteflow schema, version 4, PostgreSQL dialect: the migration from
-- legacy settings.
--
-- A preview is stored so that its id names the legacy settings it read
-- (settings_hash) and so that applying it twice creates nothing twice
-- (applied_at, result). One row per tenant and settings version: previewing
-- the same settings again answers with the same id.
CREATE TABLE migration_previews (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    settings_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    applied_at    BIGINT,
    applied_by    TEXT NOT NULL DEFAULT '',
    result        JSONB,
    UNIQUE (tenant_id, settings_hash),
    UNIQUE (tenant_id, id)
);

-- Every change of a tenant's engine mode: by which key, when, from, to.
CREATE TABLE tenant_mode_changes (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    from_mode   TEXT NOT NULL,
    to_mode     TEXT NOT NULL,
    api_key_id  TEXT NOT NULL DEFAULT '',
    changed_at  BIGINT NOT NULL
);
CREATE INDEX tenant_mode_changes_tenant ON tenant_mode_changes (tenant_id, id);
