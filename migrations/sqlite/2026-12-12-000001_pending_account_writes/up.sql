-- A reset through a remote account store (LDAP) is audited in two rows: "started" before the
-- directory is written, the outcome after. This row lives between the two; one left behind
-- (a crash, a database outage after the write) is settled by the reconciliation job.
CREATE TABLE pending_account_writes (
    started_seq BIGINT PRIMARY KEY NOT NULL,
    account_kind TEXT NOT NULL,
    account_id BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL
);
