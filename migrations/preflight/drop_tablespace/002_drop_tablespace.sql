-- A statement a migration cannot run, on line 4.
SELECT 1;

DROP TABLESPACE IF EXISTS preflight_ts;
