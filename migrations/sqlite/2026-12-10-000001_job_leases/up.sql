-- Periodic work shared by the instances (the housekeeping job) runs under a lease: the
-- instance that holds the row's lease until `expires_at` does the work, the others wait
-- for it to lapse.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY NOT NULL,
    owner TEXT,
    expires_at TIMESTAMP
);
