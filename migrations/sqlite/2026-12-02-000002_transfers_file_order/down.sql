ALTER TABLE establishments DROP COLUMN last_import_exported_at;
DROP INDEX pending_transfers_to;
DROP INDEX pending_transfers_from;
DROP TABLE pending_transfers;
