DROP INDEX batch_items_one_claim;
CREATE TABLE batch_items_old (
    id INTEGER PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    sealed_password TEXT,
    done_at TIMESTAMP,
    UNIQUE (batch_id, account_id)
);
INSERT INTO batch_items_old (id, batch_id, account_id, position, status, sealed_password, done_at)
    SELECT id, batch_id, account_id, position, CASE status WHEN 'abandoned' THEN 'done' ELSE status END,
           sealed_password, done_at
    FROM batch_items;
DROP TABLE batch_items;
ALTER TABLE batch_items_old RENAME TO batch_items;
CREATE INDEX batch_items_batch ON batch_items (batch_id, position);
ALTER TABLE batches DROP COLUMN abandoned_at;
ALTER TABLE batches DROP COLUMN abandoned_by;
ALTER TABLE batches DROP COLUMN gate;
ALTER TABLE batches DROP COLUMN interruption;
ALTER TABLE batches DROP COLUMN acting_uid;
