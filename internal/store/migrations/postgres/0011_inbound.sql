-- quoteflow schema, version 11, PostgreSQL dialect: inbound WhatsApp messages,
-- consent changes, and what they need of tenants and leads (issue 13).
--
-- An inbound message is stored once per tenant and wamid: Meta redelivers
-- a webhook until it is acknowledged. lead_id is the one lead whose phone
-- is the sender's; a message from an unknown number, or a number several
-- leads share (candidates), has none and is the tenant's inbox. reply_to is
-- the outbox message the reply is attributed to, for the statistics; it is
-- a plain column, because a purged message must not take the reply with it.
-- reply_to_at is that message's created_at and first_reply whether this is
-- its first reply: the reply rate counts answered messages by when they
-- were written, as the messages it divides by are.
-- raw is the message object exactly as Meta sent it, as text in both
-- dialects: JSONB would refuse a \u0000 that Meta may pass on, and an
-- inbound message must never be refused.
CREATE TABLE inbound_messages (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider_message_id TEXT NOT NULL,
    phone_number_id     TEXT NOT NULL DEFAULT '',
    from_phone          TEXT NOT NULL,
    wa_id               TEXT NOT NULL DEFAULT '',
    profile_name        TEXT NOT NULL DEFAULT '',
    type                TEXT NOT NULL,
    text                TEXT NOT NULL DEFAULT '',
    payload             TEXT NOT NULL DEFAULT '',
    media               JSONB,
    context_id          TEXT NOT NULL DEFAULT '',
    raw                 TEXT NOT NULL,
    lead_id             TEXT,
    match               TEXT NOT NULL,
    candidates          JSONB,
    consent             TEXT NOT NULL DEFAULT '',
    consent_word        TEXT NOT NULL DEFAULT '',
    reply_to            TEXT,
    reply_to_at         BIGINT,
    first_reply         BOOLEAN NOT NULL DEFAULT false,
    trigger             TEXT NOT NULL DEFAULT '',
    workflow_id         TEXT NOT NULL DEFAULT '',
    sent_at             BIGINT NOT NULL,
    received_at         BIGINT NOT NULL,
    UNIQUE (tenant_id, provider_message_id),
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX inbound_lead ON inbound_messages (tenant_id, lead_id, id);
-- The customer-service window of a number: its latest message.
CREATE INDEX inbound_from ON inbound_messages (tenant_id, from_phone, sent_at);
CREATE INDEX inbound_inbox ON inbound_messages (tenant_id, id) WHERE lead_id IS NULL;
CREATE INDEX inbound_received ON inbound_messages (tenant_id, received_at);
CREATE INDEX inbound_reply_to ON inbound_messages (tenant_id, reply_to) WHERE reply_to IS NOT NULL;
CREATE INDEX inbound_reply_to_at ON inbound_messages (tenant_id, reply_to_at) WHERE reply_to_at IS NOT NULL;

-- Every change of a lead's consent on a channel: when, how, and which
-- inbound message made it. opted_in is the consent after the change
-- (whatsapp_opt_in, or not email_opt_out).
CREATE TABLE consent_changes (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id     TEXT NOT NULL,
    channel     TEXT NOT NULL,
    opted_in    BOOLEAN NOT NULL,
    source      TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    inbound_id  TEXT,
    trigger     TEXT NOT NULL DEFAULT '',
    workflow_id TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, inbound_id) REFERENCES inbound_messages (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX consent_changes_lead ON consent_changes (tenant_id, lead_id, id);
CREATE INDEX consent_changes_created ON consent_changes (tenant_id, created_at);
CREATE INDEX consent_changes_inbound ON consent_changes (tenant_id, inbound_id) WHERE inbound_id IS NOT NULL;

-- The tenant's own opt-out and opt-in words; NULL: the defaults.
ALTER TABLE tenants ADD COLUMN consent_keywords JSONB;
-- When the customer opted out of WhatsApp (NULL: never, or opted in since).
ALTER TABLE leads ADD COLUMN whatsapp_opted_out_at BIGINT;
-- Inbound messages are matched to leads by phone.
CREATE INDEX leads_phone ON leads (tenant_id, phone);

-- What the retention purge removes of inbound messages and consent changes
-- is counted here first, in the same transaction, as stats_*_rollups are
-- for the outbox (version 5): kind is reply (an inbound message, by
-- received_at), replied (a message's first reply, by the message's
-- created_at), opt_out (a WhatsApp opt-out) or unsubscribe (an email one),
-- by created_at; 5-minute slots.
CREATE TABLE stats_reply_rollups (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    slot        BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    trigger     TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, slot, kind, trigger, workflow_id)
);
