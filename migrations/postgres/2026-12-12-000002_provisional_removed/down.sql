ALTER TABLE pupils DROP COLUMN provisional_removed_at;
ALTER TABLE parents DROP COLUMN provisional_removed_at;
ALTER TABLE pupils DROP COLUMN state_checked_at;
ALTER TABLE parents DROP COLUMN state_checked_at;
