-- A statement a migration cannot run, on line 4.
SELECT 1;

BEGIN ISOLATION LEVEL SERIALIZABLE;
INSERT INTO preflight_first VALUES (1);
COMMIT;
