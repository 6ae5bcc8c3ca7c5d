-- A statement a migration cannot run, on line 4.
SELECT 1;

DROP INDEX CONCURRENTLY IF EXISTS preflight_first_idx;
