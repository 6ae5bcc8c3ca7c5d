-- built by migrate_run's worker, with the tenant's search_path
CREATE INDEX CONCURRENTLY accounts_name ON accounts (name);
