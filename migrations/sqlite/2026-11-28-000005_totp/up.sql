-- An agent's TOTP authenticator: the secret sealed under the application key (bound to the
-- agent), the last accepted step (a step is accepted once), and the failure throttle.
CREATE TABLE agent_totp (
    agent_uid TEXT PRIMARY KEY,
    sealed_secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP,
    last_step BIGINT,
    failures BIGINT NOT NULL DEFAULT 0,
    window_start TIMESTAMP,
    locked_until TIMESTAMP
);
