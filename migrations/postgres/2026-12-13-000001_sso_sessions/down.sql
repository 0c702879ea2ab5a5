DROP INDEX sessions_sso_session;
ALTER TABLE sessions DROP COLUMN reauthenticated_at;
ALTER TABLE sessions DROP COLUMN reauth_state;
ALTER TABLE sessions DROP COLUMN sso_subject;
ALTER TABLE sessions DROP COLUMN sso_session;
ALTER TABLE sessions DROP COLUMN via;
