-- A statement a migration cannot run, on line 4.
SELECT 1;

CREATE INDEX CONCURRENTLY preflight_first_idx ON preflight_first (id);
