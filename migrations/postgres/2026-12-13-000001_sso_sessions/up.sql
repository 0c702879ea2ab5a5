-- How a session was opened: NULL (a password on /connexion), 'cas' or 'oidc' (an ENT
-- connector); the provider's session id (OIDC `sid`) and subject, which its back-channel
-- logout names; when the agent last proved himself again at the provider (TOTP enrolment).
ALTER TABLE sessions ADD COLUMN via TEXT;
ALTER TABLE sessions ADD COLUMN sso_session TEXT;
ALTER TABLE sessions ADD COLUMN sso_subject TEXT;
ALTER TABLE sessions ADD COLUMN reauthenticated_at TIMESTAMP;
CREATE INDEX sessions_sso_session ON sessions (sso_session);
