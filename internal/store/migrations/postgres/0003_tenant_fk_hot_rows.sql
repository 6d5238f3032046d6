-- quoteflow schema, version 3, PostgreSQL dialect.
--
-- Every insert into a table with a foreign key to tenants locks the
-- tenant's row FOR KEY SHARE until its transaction ends. A busy tenant's
-- quote actions, steps and deliveries insert into five such tables at once
-- from many transactions, so its one row is held by many lockers at a
-- time, and PostgreSQL records each such set of lockers as a MultiXact:
-- creating and looking them up showed as a constant background of
-- MultiXact SLRU traffic in the bench, and each check is a query of its own.
--
-- In these five tables the tenant is already guaranteed, through a
-- NOT NULL composite key to a tenant-scoped parent (the lead, the run or
-- the message) whose own row references tenants, and deleting a tenant still
-- cascades to them through that parent. So the direct key adds only cost.
-- receipts keeps its own: a receipt can arrive for no known message.
ALTER TABLE trigger_events DROP CONSTRAINT IF EXISTS trigger_events_tenant_id_fkey;
ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_tenant_id_fkey;
ALTER TABLE run_steps DROP CONSTRAINT IF EXISTS run_steps_tenant_id_fkey;
ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_tenant_id_fkey;
ALTER TABLE message_attempts DROP CONSTRAINT IF EXISTS message_attempts_tenant_id_fkey;
