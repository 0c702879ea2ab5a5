ALTER TABLE pupils DROP COLUMN provisional_removed_at;
ALTER TABLE parents DROP COLUMN provisional_removed_at;
