-- A provisional password not used within its validity is removed by the upkeep job; the
-- account then shows "Notification expirée" until a new letter is printed.
ALTER TABLE pupils ADD COLUMN provisional_removed_at TIMESTAMP;
ALTER TABLE parents ADD COLUMN provisional_removed_at TIMESTAMP;
-- When the upkeep last read the account's state from a remote store (LDAP): the accounts
-- read longest ago are read first.
ALTER TABLE pupils ADD COLUMN state_checked_at TIMESTAMP;
ALTER TABLE parents ADD COLUMN state_checked_at TIMESTAMP;
