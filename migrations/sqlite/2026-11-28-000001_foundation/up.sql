-- Foundation tables. Timestamps are UTC instants set from Rust (microseconds).

CREATE TABLE establishments (
    id INTEGER PRIMARY KEY,
    uai TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- The local staff directory (used when [directory] kind = "local").
CREATE TABLE agents (
    id INTEGER PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    mail TEXT,
    password_hash TEXT,
    disabled BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- role: 'attached' (staff of the establishment) or 'responsible' (principal).
CREATE TABLE agent_uais (
    agent_id BIGINT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    uai TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('attached', 'responsible')),
    PRIMARY KEY (agent_id, uai, role)
);
CREATE INDEX agent_uais_uai ON agent_uais (uai, role);

-- Every identifiant ever given, pupils and parents together; never deleted (tombstones).
CREATE TABLE identifiants (
    id INTEGER PRIMARY KEY,
    identifiant TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('eleve', 'responsable')),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE pupils (
    id INTEGER PRIMARY KEY,
    uai TEXT NOT NULL REFERENCES establishments(uai),
    identifiant TEXT NOT NULL UNIQUE REFERENCES identifiants(identifiant),
    ine TEXT,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    search_name TEXT NOT NULL,
    birth_date DATE NOT NULL,
    division TEXT,
    state TEXT NOT NULL CHECK (state IN ('non_notifie', 'notifie', 'active', 'bloque', 'desactive')),
    password_hash TEXT,
    must_change BOOLEAN NOT NULL DEFAULT 0,
    provisional_expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pupils_uai_name ON pupils (uai, search_name);
CREATE INDEX pupils_uai_division ON pupils (uai, division, search_name);
CREATE INDEX pupils_ine ON pupils (ine);

-- activation_path: 'notification', 'sms', 'franceconnect' once activated.
CREATE TABLE parents (
    id INTEGER PRIMARY KEY,
    identifiant TEXT NOT NULL UNIQUE REFERENCES identifiants(identifiant),
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    search_name TEXT NOT NULL,
    email TEXT,
    mobile TEXT,
    state TEXT NOT NULL CHECK (state IN ('non_notifie', 'notifie', 'active', 'bloque', 'desactive')),
    activation_path TEXT CHECK (activation_path IN ('notification', 'sms', 'franceconnect')),
    password_hash TEXT,
    must_change BOOLEAN NOT NULL DEFAULT 0,
    provisional_expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX parents_name ON parents (search_name);

-- legal_rank: 1 or 2 (RESP_LEGAL of SIECLE).
CREATE TABLE pupil_parents (
    pupil_id BIGINT NOT NULL REFERENCES pupils(id) ON DELETE CASCADE,
    parent_id BIGINT NOT NULL REFERENCES parents(id) ON DELETE CASCADE,
    legal_rank SMALLINT NOT NULL CHECK (legal_rank IN (1, 2)),
    PRIMARY KEY (pupil_id, parent_id)
);
CREATE INDEX pupil_parents_parent ON pupil_parents (parent_id);

-- One row: every audited transaction updates it first, which serialises appends.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    uai TEXT,
    action TEXT NOT NULL,
    target_kind TEXT,
    target_id TEXT,
    outcome TEXT NOT NULL,
    delegation_id BIGINT,
    gate TEXT,
    peer_addr TEXT,
    client_addr TEXT,
    request_id TEXT,
    details TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_uai_at ON audit_events (uai, at);
CREATE INDEX audit_events_target ON audit_events (target_kind, target_id);
CREATE INDEX audit_events_actor ON audit_events (actor, at);
