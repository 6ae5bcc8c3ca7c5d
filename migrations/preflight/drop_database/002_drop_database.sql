-- A statement a migration cannot run, on line 4.
SELECT 1;

DROP DATABASE IF EXISTS preflight_db;
