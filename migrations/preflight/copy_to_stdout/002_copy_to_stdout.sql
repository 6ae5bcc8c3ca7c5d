-- A statement a migration cannot run, on line 4.
SELECT 1;

COPY preflight_first TO STDOUT;
