DROP INDEX batch_items_one_claim;
ALTER TABLE batch_items DROP COLUMN claimed;
-- An abandoned account must never be reset by the older code: it counts as done there
-- (with no password, so no letter).
UPDATE batch_items SET status = 'done' WHERE status = 'abandoned';
ALTER TABLE batch_items DROP CONSTRAINT batch_items_status_check;
ALTER TABLE batch_items ADD CONSTRAINT batch_items_status_check CHECK (status IN ('pending', 'done'));
ALTER TABLE batch_items DROP CONSTRAINT batch_items_account_kind_check;
ALTER TABLE batch_items DROP COLUMN account_kind;
ALTER TABLE batches DROP COLUMN abandoned_at;
ALTER TABLE batches DROP COLUMN abandoned_by;
ALTER TABLE batches DROP COLUMN gate;
ALTER TABLE batches DROP COLUMN interruption;
ALTER TABLE batches DROP COLUMN acting_uid;
