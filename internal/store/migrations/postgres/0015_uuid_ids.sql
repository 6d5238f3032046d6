-- quoteflow schema, version 15, PostgreSQL dialect: ids as uuid.
--
-- Every id quoteflow makes is a UUIDv7 (newID). As text it took 37 bytes
-- in a row and in every index entry that holds it; as uuid it takes 16.
-- A sent quote message carries about forty id values across its event,
-- run, step, message and attempt rows and about twenty-seven index
-- entries, most holding one to three ids: measured on a bench database,
-- the same rows took 37% fewer bytes with uuid columns (docs/PERFORMANCE.md,
-- "Storage per sent message").
--
-- Converted: every text column named id, *_id, duplicate_of or fallback_of outside
-- River's tables, except the ids that are not ours (WhatsApp's wa_id,
-- context_id, phone_number_id, the providers' message ids), the workflow's
-- own step ids, and a few columns of tables that grow by far less than one
-- row per message, which hold '' for "none" or are compared with text
-- read from JSON: the statistics rollups' workflow_id (a key column),
-- consent_changes.workflow_id, inbound_messages.workflow_id,
-- tenant_mode_changes.api_key_id and alerts.rule_id.
--
-- The store still hands ids around as strings; its codec for uuid (ids.go)
-- keeps their meaning: a string that is not one of our ids names no row,
-- as it did when the columns were text, instead of failing the statement
-- and its transaction.
--
-- A foreign key needs the same type on both sides, so the constraints are
-- dropped first and made again, as they were, at the end. Each table is
-- rewritten once (one ALTER TABLE for all its columns), its indexes
-- rebuilt: on a large database this holds each table's lock for the time
-- of its rewrite; run it in a maintenance window.
DO $$
DECLARE
    fk record;
    t record;
BEGIN
    CREATE TEMPORARY TABLE qf_foreign_keys ON COMMIT DROP AS
        SELECT c.conrelid::regclass::text AS tbl, c.conname AS name, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c
        JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype = 'f' AND n.nspname = current_schema()
          AND c.conrelid::regclass::text NOT LIKE 'river%';
    FOR fk IN SELECT * FROM qf_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.name);
    END LOOP;

    FOR t IN
        SELECT c.table_name, string_agg(format('ALTER COLUMN %I TYPE uuid USING %I::uuid', c.column_name, c.column_name), ', ') AS cols
        FROM information_schema.columns c
        JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND tb.table_type = 'BASE TABLE'
          AND c.data_type = 'text'
          AND (c.column_name = 'id' OR c.column_name LIKE '%\_id' OR c.column_name IN ('duplicate_of', 'fallback_of'))
          AND c.column_name NOT IN ('wa_id', 'context_id', 'phone_number_id', 'provider_message_id', 'step_id')
          AND NOT (c.table_name LIKE 'stats\_%' AND c.column_name = 'workflow_id')
          AND (c.table_name, c.column_name) NOT IN (('alerts', 'rule_id'), ('consent_changes', 'workflow_id'),
                                                    ('inbound_messages', 'workflow_id'), ('tenant_mode_changes', 'api_key_id'))
          AND c.table_name NOT LIKE 'river%' AND c.table_name NOT LIKE 'floor\_%'
        GROUP BY c.table_name
    LOOP
        EXECUTE format('ALTER TABLE %I %s', t.table_name, t.cols);
    END LOOP;

    FOR fk IN SELECT * FROM qf_foreign_keys LOOP
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.name, fk.def);
    END LOOP;
END
$$;
