DROP TABLE pending_account_writes;
