-- A statement a migration cannot run, on line 4.
SELECT 1;

ALTER DATABASE preflight_db SET TABLESPACE pg_default;
