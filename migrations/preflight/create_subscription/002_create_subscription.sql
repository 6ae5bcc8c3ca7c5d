-- A statement a migration cannot run, on line 4.
SELECT 1;

CREATE SUBSCRIPTION preflight_sub CONNECTION 'dbname=none' PUBLICATION p;
