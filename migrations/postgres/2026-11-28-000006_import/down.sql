DROP TABLE parent_sources;
ALTER TABLE establishments DROP COLUMN last_import_year;
DROP INDEX pupils_uai_siecle;
ALTER TABLE pupils DROP COLUMN departure_date;
ALTER TABLE pupils DROP COLUMN siecle_id;
