-- A statement a migration cannot run, on line 4.
SELECT 1;

VACUUM (ANALYZE) preflight_first;
