-- Dates shown on the pupil page, and the state to go back to after an unblock or a
-- reactivation.
ALTER TABLE pupils ADD COLUMN notified_at TIMESTAMP;
ALTER TABLE pupils ADD COLUMN activated_at TIMESTAMP;
ALTER TABLE pupils ADD COLUMN password_changed_at TIMESTAMP;
ALTER TABLE pupils ADD COLUMN previous_state TEXT;
ALTER TABLE parents ADD COLUMN notified_at TIMESTAMP;
ALTER TABLE parents ADD COLUMN activated_at TIMESTAMP;
ALTER TABLE parents ADD COLUMN password_changed_at TIMESTAMP;
ALTER TABLE parents ADD COLUMN previous_state TEXT;

-- A batch of letters for a division (or, later, parents). The idempotency key makes a double
-- submit one batch; the lease keeps two tabs or two instances from working on it at once.
CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('eleves', 'responsables')),
    uai TEXT NOT NULL,
    division TEXT NOT NULL,
    states TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    printed_at TIMESTAMP,
    wiped_at TIMESTAMP,
    last_error TEXT
);
CREATE INDEX batches_uai ON batches (uai, created_at);

-- One row per account of the batch; the provisional password is kept encrypted (AES-256-GCM,
-- bound to the batch and the account) until the letters are printed, 24 hours at most.
CREATE TABLE batch_items (
    id INTEGER PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    sealed_password TEXT,
    done_at TIMESTAMP,
    UNIQUE (batch_id, account_id)
);
CREATE INDEX batch_items_batch ON batch_items (batch_id, position);
