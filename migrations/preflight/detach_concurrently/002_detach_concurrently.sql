-- A statement a migration cannot run, on line 4.
SELECT 1;

ALTER TABLE preflight_first DETACH PARTITION preflight_part CONCURRENTLY;
