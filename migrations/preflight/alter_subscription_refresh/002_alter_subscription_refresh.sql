-- A statement a migration cannot run, on line 4.
SELECT 1;

ALTER SUBSCRIPTION preflight_sub REFRESH PUBLICATION;
