-- Batches are authorised item by item: who the work runs for (`acting_uid`), the rights
-- problem that stopped it (`interruption`), the parents' gate it was started through, an
-- explicit abandon of what is left. Items know their account kind and whether they still
-- claim their account: an account belongs to at most one unfinished batch (partial unique
-- index), and an item may be abandoned.
ALTER TABLE batches ADD COLUMN acting_uid TEXT;
UPDATE batches SET acting_uid = created_by;
ALTER TABLE batches ADD COLUMN interruption TEXT;
ALTER TABLE batches ADD COLUMN gate TEXT;
ALTER TABLE batches ADD COLUMN abandoned_by TEXT;
ALTER TABLE batches ADD COLUMN abandoned_at TIMESTAMP;

ALTER TABLE batch_items ADD COLUMN account_kind TEXT;
UPDATE batch_items i SET account_kind = b.kind FROM batches b WHERE b.id = i.batch_id;
ALTER TABLE batch_items ALTER COLUMN account_kind SET NOT NULL;
ALTER TABLE batch_items ADD CONSTRAINT batch_items_account_kind_check
    CHECK (account_kind IN ('eleves', 'responsables'));
ALTER TABLE batch_items DROP CONSTRAINT batch_items_status_check;
ALTER TABLE batch_items ADD CONSTRAINT batch_items_status_check
    CHECK (status IN ('pending', 'done', 'abandoned'));
ALTER TABLE batch_items ADD COLUMN claimed BOOLEAN NOT NULL DEFAULT FALSE;
-- Existing unfinished batches keep the newest claim on each account.
UPDATE batch_items SET claimed = TRUE WHERE id IN (
    SELECT MAX(i.id) FROM batch_items i JOIN batches b ON b.id = i.batch_id
    WHERE b.wiped_at IS NULL GROUP BY i.account_kind, i.account_id);
ALTER TABLE batch_items ALTER COLUMN claimed SET DEFAULT TRUE;
-- The older of two overlapping batches must not reset (and so void the newer letters):
-- what it still had to do is abandoned.
UPDATE batch_items SET status = 'abandoned' WHERE status = 'pending' AND NOT claimed;
CREATE UNIQUE INDEX batch_items_one_claim ON batch_items (account_kind, account_id) WHERE claimed;
