-- A statement a migration cannot run, on line 4.
SELECT 1;

INSERT INTO preflight_first VALUES (1);
COMMIT;
INSERT INTO preflight_first VALUES (2);
