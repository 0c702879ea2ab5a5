-- How a session was opened: NULL (a password on /connexion), 'cas' or 'oidc' (an ENT
-- connector); the provider's session id (OIDC `sid`) and subject, which its back-channel
-- logout names; the re-authentication at the provider under way (the SHA-256 of its flow's
-- state: only that flow, once, can mark this session) and when the agent last proved himself
-- again there (TOTP enrolment).
ALTER TABLE sessions ADD COLUMN via TEXT;
ALTER TABLE sessions ADD COLUMN sso_session TEXT;
ALTER TABLE sessions ADD COLUMN sso_subject TEXT;
ALTER TABLE sessions ADD COLUMN reauth_state TEXT;
ALTER TABLE sessions ADD COLUMN reauthenticated_at TIMESTAMP;
CREATE INDEX sessions_sso_session ON sessions (sso_session);
