-- A statement a migration cannot run, on line 4.
SELECT 1;

CREATE TABLESPACE preflight_ts LOCATION '/tmp';
