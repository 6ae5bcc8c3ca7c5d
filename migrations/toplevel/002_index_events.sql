-- Statements no transaction block can hold: migrate_run runs them at top
-- level in a background worker, each after committing what came before.
-- morgenmigrate: lock_timeout=10s
SET maintenance_work_mem = '32MB';
CREATE INDEX CONCURRENTLY IF NOT EXISTS events_code_idx ON events (code);
VACUUM (ANALYZE) events;
CREATE TABLE IF NOT EXISTS events_seen AS
    SELECT current_setting('maintenance_work_mem') AS maintenance_work_mem;
