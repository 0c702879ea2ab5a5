-- DelegCE: a principal's delegation of one scope on one establishment to a staff member.
-- valid_from / valid_until are days (inclusive) in the configured time zone.
CREATE TABLE delegations (
    id INTEGER PRIMARY KEY,
    uai TEXT NOT NULL,
    grantee_uid TEXT NOT NULL,
    grantee_name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('eleves', 'responsables')),
    valid_from DATE NOT NULL,
    valid_until DATE NOT NULL,
    motive TEXT NOT NULL,
    granted_by TEXT NOT NULL,
    granted_at TIMESTAMP NOT NULL,
    extended_by TEXT,
    extended_at TIMESTAMP,
    revoked_by TEXT,
    revoked_at TIMESTAMP,
    CHECK (valid_until >= valid_from)
);
CREATE INDEX delegations_uai ON delegations (uai, valid_until);
CREATE INDEX delegations_grantee ON delegations (grantee_uid, valid_until);
