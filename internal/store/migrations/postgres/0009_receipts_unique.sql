-- quoteflow schema, version 9, PostgreSQL dialect: a replayed webhook adds no
-- receipt (issue 12).
--
-- Meta redelivers a webhook until it gets a 200, and anyone holding a
-- signed body can post it again. A status of a provider message at a
-- provider time is one event, so it is stored once. Without a provider
-- timestamp (Meta always sends one) the same status of the same message
-- counts as the same event too: COALESCE, because NULLs never collide in a
-- unique index.
--
-- Duplicates already stored are removed first, keeping the first received
-- (the smallest id: ids are UUIDv7, so creation order); the messages they
-- moved are unchanged, since a repeated receipt never moved anything.
DELETE FROM receipts
WHERE EXISTS (SELECT 1 FROM receipts AS earlier
              WHERE earlier.tenant_id = receipts.tenant_id
                AND earlier.provider_message_id = receipts.provider_message_id
                AND earlier.status = receipts.status
                AND COALESCE(earlier.provider_timestamp, 0) = COALESCE(receipts.provider_timestamp, 0)
                AND earlier.id < receipts.id);

CREATE UNIQUE INDEX receipts_event ON receipts (tenant_id, provider_message_id, status, COALESCE(provider_timestamp, 0));

-- receipts_provider (tenant_id, provider_message_id) is a prefix of
-- receipts_event, which serves every lookup it served.
DROP INDEX IF EXISTS receipts_provider;
