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

CREATE TABLE batch_items_new (
    id INTEGER PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    account_kind TEXT NOT NULL CHECK (account_kind IN ('eleves', 'responsables')),
    account_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'abandoned')),
    claimed BOOLEAN NOT NULL DEFAULT TRUE,
    sealed_password TEXT,
    done_at TIMESTAMP,
    UNIQUE (batch_id, account_id)
);
INSERT INTO batch_items_new (id, batch_id, account_kind, account_id, position, status, claimed, sealed_password, done_at)
    SELECT i.id, i.batch_id, b.kind, i.account_id, i.position, i.status, 0, i.sealed_password, i.done_at
    FROM batch_items i JOIN batches b ON b.id = i.batch_id;
DROP TABLE batch_items;
ALTER TABLE batch_items_new RENAME TO batch_items;
CREATE INDEX batch_items_batch ON batch_items (batch_id, position);
-- Existing unfinished batches keep the newest claim on each account.
UPDATE batch_items SET claimed = 1 WHERE id IN (
    SELECT MAX(i.id) FROM batch_items i JOIN batches b ON b.id = i.batch_id
    WHERE b.wiped_at IS NULL GROUP BY i.account_kind, i.account_id);
-- The older of two overlapping batches must not reset (and so void the newer letters):
-- what it still had to do is abandoned.
UPDATE batch_items SET status = 'abandoned' WHERE status = 'pending' AND NOT claimed;
CREATE UNIQUE INDEX batch_items_one_claim ON batch_items (account_kind, account_id) WHERE claimed;
