-- Limits for this file alone.
-- morgenmigrate: lock_timeout=5s statement_timeout=10min retries=3

CREATE TABLE limits_seen AS
    SELECT 1 AS file, current_setting('lock_timeout') AS lock_timeout;
