-- Server-side sessions. The cookie carries a random 256-bit id; only its SHA-256 is stored.
-- The agent's directory data is kept with the time it was read (re-read after 5 minutes).
CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    agent_uid TEXT NOT NULL,
    display_name TEXT NOT NULL,
    mail TEXT,
    attached TEXT NOT NULL,
    responsible TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    directory_checked_at TIMESTAMP NOT NULL,
    totp_verified_at TIMESTAMP
);
CREATE INDEX sessions_agent ON sessions (agent_uid);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

-- Sign-in throttling, per uid ('uid:…') and per client address ('addr:…').
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start TIMESTAMP NOT NULL,
    blocked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
