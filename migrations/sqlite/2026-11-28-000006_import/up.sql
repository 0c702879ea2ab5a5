-- Imports from SIECLE/CSV: pupils are matched by (UAI, ELEVE_ID) then INE, parents by
-- (UAI, PERSONNE_ID); leavers get a departure date.
ALTER TABLE pupils ADD COLUMN siecle_id TEXT;
ALTER TABLE pupils ADD COLUMN departure_date DATE;
CREATE INDEX pupils_uai_siecle ON pupils (uai, siecle_id);
ALTER TABLE establishments ADD COLUMN last_import_year TEXT;

CREATE TABLE parent_sources (
    uai TEXT NOT NULL,
    personne_id TEXT NOT NULL,
    parent_id BIGINT NOT NULL REFERENCES parents(id) ON DELETE CASCADE,
    PRIMARY KEY (uai, personne_id)
);
CREATE INDEX parent_sources_parent ON parent_sources (parent_id);
