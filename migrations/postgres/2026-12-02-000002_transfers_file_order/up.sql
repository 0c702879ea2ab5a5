-- Transfers between establishments: a pupil claimed by another establishment's import (same
-- INE, surname and birth date) while still current here waits for his departure or for this
-- establishment's principal. The row keeps what the claiming file says of him.
CREATE TABLE pending_transfers (
    id BIGSERIAL PRIMARY KEY,
    pupil_id BIGINT NOT NULL UNIQUE REFERENCES pupils(id) ON DELETE CASCADE,
    from_uai TEXT NOT NULL,
    to_uai TEXT NOT NULL,
    siecle_id TEXT NOT NULL,
    ine TEXT NOT NULL,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    birth_date DATE NOT NULL,
    division TEXT,
    requested_by TEXT NOT NULL,
    requested_at TIMESTAMP NOT NULL
);
CREATE INDEX pending_transfers_from ON pending_transfers (from_uai);
CREATE INDEX pending_transfers_to ON pending_transfers (to_uai);

-- The last file applied per establishment: its school year (last_import_year) and the
-- export's date and time, so an older file is refused.
ALTER TABLE establishments ADD COLUMN last_import_exported_at TIMESTAMP;
